using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OrleansSweep.Core.Specs;
using OrleansSweep.Training.Models;
using OrleansSweep.Training.Native;
using OrleansSweep.Training.Trainer;
using TorchSharp;
using static TorchSharp.torch;

// Usage:
//   export DIR [none|batch]      ResNet-8 weights (final.pt), an input batch, its logits and loss, for the PyTorch check
//   bench B T STEPS              samples/s of ResNet-8 (no BN) SGD steps at batch B with T threads, as JSON
//   memory STEPS                 resident memory every STEPS/10 steps of a long run (no native leak: it stays flat)
//   sweep-scale TRIALS [SLOTS] [--redis HOST:PORT]
//                                one sweep of TRIALS instant trials (a test double trainer): dispatch, persist, record,
//                                watch and pull, in SQLite (embedded) or Redis (the cluster's store), as JSON
//   landscape MODEL SIZE...      seconds of one full-space eps-sharpness (eps 1e-3, 10 L-BFGS-B iterations) and one
//                                Hessian top eigenvalue (<= 20 power iterations, tol 1e-3) of MODEL after 200 SGD steps
//                                on Fashion-MNIST, for each evaluation-subset SIZE, as JSON lines
TorchNativeLoader.EnsureLoaded();
return args.FirstOrDefault() switch
{
    "export" => Export(args[1], args.Length > 2 ? args[2] : "batch"),
    "bench" => Bench(int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture), int.Parse(args[3], CultureInfo.InvariantCulture)),
    "memory" => Memory(int.Parse(args[1], CultureInfo.InvariantCulture)),
    "sweep-scale" => await OrleansSweep.Benchmarks.SweepScale.RunAsync(int.Parse(args[1], CultureInfo.InvariantCulture),
        args.Length > 2 && !args[2].StartsWith("--", StringComparison.Ordinal) ? int.Parse(args[2], CultureInfo.InvariantCulture) : 64,
        args.SkipWhile(a => a != "--redis").Skip(1).FirstOrDefault()),
    "landscape" => OrleansSweep.Benchmarks.LandscapeTiming.Run(args[1], args.Skip(2).Select(a => int.Parse(a, CultureInfo.InvariantCulture)).ToList()),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: export DIR [none|batch] | bench BATCH THREADS STEPS | memory STEPS | sweep-scale TRIALS [SLOTS] [--redis HOST:PORT] | landscape MODEL SIZE...");
    return 2;
}

static int Export(string directory, string bn)
{
    Directory.CreateDirectory(directory);
    using var model = ModelFactory.Create(new ModelSpec { Architecture = "resnet8" }, BnMode.Parse(bn), 0, 1, 28, 28);
    var generator = new Generator(3);
    // A few training steps first, so BN running statistics and weights are not at their initial values.
    using (var optimizer = optim.SGD(model.parameters(), 0.05))
        for (int i = 0; i < 5; i++)
        {
            using var scope = NewDisposeScope();
            var loss = nn.functional.cross_entropy(model.forward(randn([32, 1, 28, 28], generator: generator)), randint(0, 10, [32], generator: generator));
            optimizer.zero_grad(); loss.backward(); optimizer.step();
        }
    using var input = randn([64, 1, 28, 28], generator: generator);
    using var labels = randint(0, 10, [64], generator: generator);
    model.eval();
    using var noGrad = no_grad();
    using var logits = model.forward(input);
    double lossValue = nn.functional.cross_entropy(logits, labels).item<float>();
    TrialTrainer.ExportForPyTorch(model, Path.Combine(directory, "final.pt"));
    File.WriteAllBytes(Path.Combine(directory, "input.f32"), input.data<float>().ToArray().SelectMany(BitConverter.GetBytes).ToArray());
    File.WriteAllBytes(Path.Combine(directory, "labels.i64"), labels.data<long>().ToArray().SelectMany(BitConverter.GetBytes).ToArray());
    File.WriteAllBytes(Path.Combine(directory, "logits.f32"), logits.data<float>().ToArray().SelectMany(BitConverter.GetBytes).ToArray());
    File.WriteAllText(Path.Combine(directory, "meta.json"),
        JsonSerializer.Serialize(new Dictionary<string, object> { ["blocks"] = 1, ["bn"] = bn, ["input_shape"] = new[] { 64, 1, 28, 28 }, ["loss"] = lossValue }));
    Console.WriteLine(JsonSerializer.Serialize(new { export = directory, bn, loss = lossValue }));
    return 0;
}

static int Bench(int batch, int threads, int steps)
{
    set_num_threads(threads);
    using var model = ModelFactory.Create(new ModelSpec { Architecture = "resnet8" }, BnMode.None, 0, 1, 28, 28);
    using var optimizer = optim.SGD(model.parameters(), 0.01, 0.0, weight_decay: 1e-4);
    using var images = randn(4096, 1, 28, 28);
    using var labels = randint(0, 10, [4096]);
    using var generator = new Generator(0);
    using var permutation = randperm(4096, generator: generator);

    void Step(int i)
    {
        using var scope = NewDisposeScope();
        var index = permutation.narrow(0, (i * batch) % (4096 - batch), batch);
        var loss = nn.functional.cross_entropy(model.forward(images.index_select(0, index)), labels.index_select(0, index));
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        _ = loss.item<float>();
    }

    for (int i = 0; i < Math.Max(3, steps / 10); i++) Step(i); // warm-up: allocator, kernel selection
    var clock = Stopwatch.StartNew();
    for (int i = 0; i < steps; i++) Step(i);
    double seconds = clock.Elapsed.TotalSeconds;
    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["framework"] = "torchsharp 0.107.0", ["batch"] = batch, ["threads"] = threads, ["steps"] = steps, ["samples_per_second"] = steps * batch / seconds,
    }));
    return 0;
}

static int Memory(int steps)
{
    set_num_threads(1);
    using var model = ModelFactory.Create(new ModelSpec { Architecture = "resnet8" }, BnMode.Batch, 0, 1, 28, 28);
    using var optimizer = optim.SGD(model.parameters(), 0.01, 0.9, weight_decay: 1e-4);
    using var images = randn(1024, 1, 28, 28);
    using var labels = randint(0, 10, [1024]);
    using var generator = new Generator(0);
    for (int i = 0; i < steps; i++)
    {
        using (NewDisposeScope())
        {
            var index = randperm(1024, generator: generator).narrow(0, 0, 32);
            var loss = nn.functional.cross_entropy(model.forward(images.index_select(0, index)), labels.index_select(0, index));
            optimizer.zero_grad(); loss.backward(); optimizer.step();
            _ = loss.item<float>();
        }
        if ((i + 1) % Math.Max(1, steps / 10) == 0)
        {
            using var process = Process.GetCurrentProcess();
            Console.WriteLine(JsonSerializer.Serialize(new { step = i + 1, rss_mib = process.WorkingSet64 / (1024.0 * 1024.0) }));
        }
    }
    return 0;
}
