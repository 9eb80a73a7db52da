using OrleansSweep.Training.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OrleansSweep.Training.Tests;

/// <summary>
/// The trainer's Adam and SGD (<see cref="Trainer.ScalarSafe.Adam"/>): the same updates as TorchSharp's, bit for bit,
/// and state files either reads; and steps that survive garbage collections beside them, which TorchSharp's own step
/// does not (its implicit Scalars are freed by the finalizer thread while libtorch reads them).
/// </summary>
public class ScalarSafeOptimizerTests
{
    public ScalarSafeOptimizerTests() => TorchNativeLoader.EnsureLoaded();

    private static Sequential Model(long seed)
    {
        torch.manual_seed(seed);
        return nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 4));
    }

    /// <summary>Trains <paramref name="model"/> for some steps on fixed data with the optimizer made for it.</summary>
    private static void Train(Sequential model, OptimizerHelper optimizer, int steps)
    {
        var generator = new Generator(7);
        using var inputs = randn([steps, 8, 20], generator: generator);
        using var labels = randint(0, 4, [steps, 8], generator: generator);
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            nn.functional.cross_entropy(model.forward(inputs[step]), labels[step]).backward();
            optimizer.step();
        }
    }

    private static byte[] State(OptimizerHelper optimizer)
    {
        using var bytes = new MemoryStream();
        using (var writer = new BinaryWriter(bytes, System.Text.Encoding.UTF8, leaveOpen: true)) optimizer.save_state_dict(writer);
        return bytes.ToArray();
    }

    public static TheoryData<string, double, double> Settings => new()
    {
        { "adam", 0, 0 }, { "adam", 0, 5e-4 }, { "sgd", 0.9, 5e-4 }, { "sgd", 0.9, 0 }, { "sgd", 0, 1e-3 },
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public void Steps_are_torchsharps_bit_for_bit_and_their_state_files_are_interchangeable(string kind, double momentum, double weightDecay)
    {
        OptimizerHelper Stock(Sequential m) => kind == "adam"
            ? optim.Adam(m.parameters(), 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: weightDecay)
            : optim.SGD(m.parameters(), 0.05, momentum, weight_decay: weightDecay);
        OptimizerHelper Ours(Sequential m) => kind == "adam"
            ? new Trainer.ScalarSafe.Adam(m.parameters(), 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: weightDecay)
            : new Trainer.ScalarSafe.SGD(m.parameters(), 0.05, momentum, weight_decay: weightDecay);

        using Sequential stockModel = Model(3), oursModel = Model(3);
        using var stock = Stock(stockModel);
        using var ours = Ours(oursModel);
        Train(stockModel, stock, 25);
        Train(oursModel, ours, 25);
        foreach (var (expected, actual) in stockModel.parameters().Zip(oursModel.parameters()))
            Assert.Equal(expected.data<float>().ToArray(), actual.data<float>().ToArray());
        Assert.Equal(State(stock), State(ours)); // the same bytes: a checkpoint of either resumes in the other

        // A state written by TorchSharp's optimizer loads into ours, and training on gives the same weights again.
        using Sequential resumedModel = Model(3);
        resumedModel.load_state_dict(stockModel.state_dict());
        using var resumed = Ours(resumedModel);
        using (var reader = new BinaryReader(new MemoryStream(State(stock)))) resumed.load_state_dict(reader);
        Train(stockModel, stock, 5);
        Train(resumedModel, resumed, 5);
        foreach (var (expected, actual) in stockModel.parameters().Zip(resumedModel.parameters()))
            Assert.Equal(expected.data<float>().ToArray(), actual.data<float>().ToArray());
    }

    [Fact]
    public void Steps_survive_garbage_collections_running_beside_them()
    {
        // Forced collections make the finalizer thread run while steps are in native code: TorchSharp's own Adam
        // failed here within 1 to 8 seconds ("Expected false to be true" from c10::Scalar::toFloat on a freed Scalar).
        var stop = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        long steps = 0;
        void TrainUntilStopped(int seed)
        {
            try
            {
                torch.set_num_threads(1);
                using Sequential adamModel = Model(seed), sgdModel = Model(seed + 1);
                using var adam = new Trainer.ScalarSafe.Adam(adamModel.parameters(), 0.001, 0.9, 0.999, 1e-8, 5e-4);
                using var sgd = new Trainer.ScalarSafe.SGD(sgdModel.parameters(), 0.01, 0.9, 5e-4);
                while (DateTime.UtcNow < stop)
                {
                    Train(adamModel, adam, 2);
                    Train(sgdModel, sgd, 2);
                    Interlocked.Add(ref steps, 4);
                }
            }
            catch (Exception e) { failures.Enqueue(e); }
        }
        // Two trials at once, as a silo with two slots runs them, and a third thread collecting.
        var threads = new List<Thread> { new(() => TrainUntilStopped(1)), new(() => TrainUntilStopped(3)) };
        threads.Add(new Thread(() =>
        {
            while (DateTime.UtcNow < stop)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }));
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Empty(failures);
        Assert.True(steps > 100, $"only {steps} steps ran");
    }
}
