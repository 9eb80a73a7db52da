using System.Diagnostics;
using System.Text.Json;
using OrleansSweep.Core.Specs;
using OrleansSweep.Training.Data;
using OrleansSweep.Training.Landscape;
using OrleansSweep.Training.Models;
using OrleansSweep.Training.Trainer;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSweep.Benchmarks;

/// <summary>How long the analysis stage's two expensive measurements take, and how they scale with the evaluation subset.</summary>
public static class LandscapeTiming
{
    public static int Run(string architecture, IReadOnlyList<int> sizes)
    {
        torch.set_num_threads(Environment.ProcessorCount);
        var data = DatasetCatalog.Load(new DatasetSpec { Name = "fashion-mnist", TrainSubset = Math.Max(2000, sizes.DefaultIfEmpty(1000).Max()), TestSubset = 100 });
        using var tensors = TensorData.Create(data, CPU);
        using var model = ModelFactory.Create(new ModelSpec { Architecture = architecture }, BnMode.Batch, 0, 1, 28, 28);
        model.train();
        // A partly trained network: the landscape at initialisation is not what a trial measures.
        using (var optimizer = optim.SGD(model.parameters(), 0.05))
        using (var generator = new Generator(1))
            for (int step = 0; step < 200; step++)
            {
                using var scope = NewDisposeScope();
                var index = randint(0, tensors.TrainImages.shape[0], [64], generator: generator);
                var loss = nn.functional.cross_entropy(model.forward(tensors.TrainImages.index_select(0, index)), tensors.TrainLabels.index_select(0, index));
                optimizer.zero_grad(); loss.backward(); optimizer.step();
            }
        long parameters = model.parameters().Sum(p => p.numel());
        foreach (int size in sizes)
        {
            var (images, labels) = TrialAnalyzer.EvaluationSubset(tensors, size, 0);
            using (images)
            using (labels)
            {
                SharpnessTiming(model, images, labels, architecture, parameters, size);
                EigenvalueTiming(model, images, labels, architecture, parameters, size);
            }
        }
        return 0;
    }

    private static void SharpnessTiming(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels, string architecture, long parameters, int size)
    {
        using var flat = new FlatParameters(model, images, labels, 1000);
        var clock = Stopwatch.StartNew();
        var m = Sharpness.Measure(flat, Sharpness.FullSpace, 1e-3, iterations: 10);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            measure = "sharpness-full", model = architecture, parameters, subset = size, threads = torch.get_num_threads(),
            seconds = clock.Elapsed.TotalSeconds, m.Sharpness, m.Iterations, m.Evaluations, secondsPerEvaluation = clock.Elapsed.TotalSeconds / m.Evaluations,
        }));
    }

    private static void EigenvalueTiming(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels, string architecture, long parameters, int size)
    {
        using var flat = new FlatParameters(model, images, labels, 256);
        var clock = Stopwatch.StartNew();
        var e = HessianEigenvalue.TopEigenvalue(flat, maxIterations: 20, tolerance: 1e-3);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            measure = "hessian-eigenvalue", model = architecture, parameters, subset = size, threads = torch.get_num_threads(),
            seconds = clock.Elapsed.TotalSeconds, e.Eigenvalue, e.Iterations, e.Converged, secondsPerProduct = clock.Elapsed.TotalSeconds / e.Iterations,
        }));
    }
}
