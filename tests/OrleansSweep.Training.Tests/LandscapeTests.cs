using OrleansSweep.Core.Specs;
using OrleansSweep.TestSupport;
using OrleansSweep.Training.Data;
using OrleansSweep.Training.Landscape;
using OrleansSweep.Training.Models;
using OrleansSweep.Training.Native;
using OrleansSweep.Training.Trainer;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSweep.Training.Tests;

public sealed class LandscapeTests
{
    public LandscapeTests() => TorchNativeLoader.EnsureLoaded();

    [Fact]
    public void Top_eigenvalue_of_a_quadratic_is_its_largest_eigenvalue()
    {
        // f(x) = 1/2 x'Ax with A = Q diag(5, 2, -1, 0.5) Q': Hessian A, top eigenvalue 5.
        manual_seed(3);
        var (q, _) = linalg.qr(randn(4, 4, dtype: ScalarType.Float64));
        var a = q.matmul(diag(tensor(new[] { 5.0, 2.0, -1.0, 0.5 }))).matmul(q.t()).to(ScalarType.Float32);
        var x = randn(4).requires_grad_();
        var result = HessianEigenvalue.TopEigenvalue(() => x.matmul(a).matmul(x) * 0.5f, [x], tolerance: 1e-6);
        Assert.True(result.Converged);
        Assert.Equal(5.0, result.Eigenvalue, 3);
    }

    [Fact]
    public void Top_eigenvalue_of_least_squares_matches_the_closed_form()
    {
        // Loss mean((Xw + b - y)^2) over a linear model: Hessian = 2/n [X 1]'[X 1], exactly.
        manual_seed(4);
        var inputs = randn(64, 5);
        var targets = randn(64, 1);
        using var model = nn.Linear(5, 1);
        var parameters = model.parameters().Select(p => (Tensor)p).ToList();
        var result = HessianEigenvalue.TopEigenvalue(() => nn.functional.mse_loss(model.forward(inputs), targets), parameters, tolerance: 1e-7);

        var design = cat([inputs, ones(64, 1)], 1).to(ScalarType.Float64);
        double expected = linalg.eigvalsh(design.t().matmul(design) * (2.0 / 64)).max().item<double>();
        Assert.True(result.Converged);
        Assert.Equal(expected, result.Eigenvalue, 3);
    }

    [Fact]
    public void Parameters_that_do_not_require_gradients_are_refused_before_libtorch_sees_them()
    {
        var x = randn(3);
        Assert.Throws<ArgumentException>(() => HessianEigenvalue.TopEigenvalue(() => x.sum(), [x]));
        Assert.Throws<ArgumentException>(() => HessianEigenvalue.TopEigenvalue(() => x.sum(), []));
    }

    [Fact]
    public void Interpolation_ends_at_the_two_solutions_and_mixes_bn_statistics_too()
    {
        using var dir = new TemporaryDirectory();
        SyntheticFashion.Write(dir.Path, trainCount: 64, testCount: 32);
        var data = DatasetCatalog.Load(new DatasetSpec { Name = "fashion-mnist", Path = dir.Path });
        using var tensors = TensorData.Create(data, CPU);
        var spec = new ModelSpec { Architecture = "resnet8" };
        using var small = ModelFactory.Create(spec, BnMode.Batch, 1, 1, 28, 28);
        using var large = ModelFactory.Create(spec, BnMode.Batch, 2, 1, 28, 28);
        foreach (var m in new[] { small, large }) { m.train(); using var _ = m.forward(tensors.TrainImages); } // move BN statistics apart
        var smallState = small.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var largeState = large.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using var probe = ModelFactory.Create(spec, BnMode.Batch, 0, 1, 28, 28);

        var points = LineInterpolation.Evaluate(probe, smallState, largeState, tensors);

        Assert.Equal(25, points.Count);
        Assert.Equal((-1.0, 2.0), (points[0].Alpha, points[^1].Alpha));
        var atSmall = points.Single(p => p.Alpha == 0);
        var atLarge = points.Single(p => p.Alpha == 1);
        Assert.Equal(TrialTrainer.Evaluate(small, tensors.TestImages, tensors.TestLabels, 1000).Loss, atSmall.TestLoss, 5);
        Assert.Equal(TrialTrainer.Evaluate(large, tensors.TestImages, tensors.TestLabels, 1000).Loss, atLarge.TestLoss, 5);

        LineInterpolation.Load(probe, smallState, largeState, 0.5);
        var expected = (smallState["stem_norm.running_mean"] + largeState["stem_norm.running_mean"]) / 2;
        Assert.True(probe.state_dict()["stem_norm.running_mean"].allclose(expected, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Where_extrapolated_bn_variance_turns_negative_the_point_has_no_loss_and_no_accuracy()
    {
        using var dir = new TemporaryDirectory();
        SyntheticFashion.Write(dir.Path, trainCount: 64, testCount: 32);
        var data = DatasetCatalog.Load(new DatasetSpec { Name = "fashion-mnist", Path = dir.Path });
        using var tensors = TensorData.Create(data, CPU);
        var spec = new ModelSpec { Architecture = "keskar-f1" };
        using var model = ModelFactory.Create(spec, BnMode.Batch, 1, 1, 28, 28);
        var smallState = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var largeState = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        // Variance 1 at the small batch, 10 at the large one: at alpha = -1 the line's variance is 2 x 1 - 10 = -8.
        largeState["layers.norm1.norm.running_var"] = full_like(smallState["layers.norm1.norm.running_var"], 10.0);

        var points = LineInterpolation.Evaluate(model, smallState, largeState, tensors, alphas: [-1, 0, 1]);

        Assert.True(double.IsNaN(points[0].TrainLoss) && double.IsNaN(points[0].TestLoss));
        Assert.True(double.IsNaN(points[0].TrainAccuracy) && double.IsNaN(points[0].TestAccuracy));
        Assert.All(points.Skip(1), p => Assert.True(double.IsFinite(p.TrainLoss) && p.TestAccuracy is >= 0 and <= 1));

        // With batch statistics BN never reads the extrapolated variance: every point has a loss and an accuracy.
        model.eval();
        var batchNormalised = LineInterpolation.Evaluate(model, smallState, largeState, tensors, alphas: [-1, 0, 1], batchStatistics: true);
        Assert.All(batchNormalised, p => Assert.True(double.IsFinite(p.TrainLoss) && double.IsFinite(p.TestLoss) && p.TestAccuracy is >= 0 and <= 1));
        Assert.False(model.training); // the mode the caller left it in
    }
}
