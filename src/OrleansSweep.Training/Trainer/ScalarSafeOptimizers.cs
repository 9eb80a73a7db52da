using TorchSharp;
using static TorchSharp.torch;

// TorchSharp's Adam and SGD steps (0.107) are written in C# and pass their coefficients as Scalars converted implicitly
// from doubles (`exp_avg.mul_(beta1)`, `add_(grad, alpha: 1 - beta1)`, ...). Such a Scalar is referenced by nothing once
// its native handle has been read, so a garbage collection during the native call can finalize it, and the finalizer
// thread frees the c10::Scalar while libtorch is still reading it: a use-after-free. Two trials in one process make
// collections frequent; the studies saw it as "Unknown scalar type" thrown mid-training (twice in ~20 SB trials of
// 9,400 steps, each retried from its checkpoint), and a test that collects in a loop beside two training threads makes
// the stock Adam fail within seconds (ScalarSafeOptimizerTests). A freed Scalar whose memory is reused before it is read
// would instead change a coefficient silently, so retrying is not enough. These classes replace only step(): the same
// operations in the same order (bit-identical updates, checked against the stock step), each Scalar created explicitly
// and disposed after the call that reads it. The class names stay "Adam" and "SGD" because TorchSharp writes the type's
// name into the optimizer state and checks it on load: checkpoints written before and after read each other.
// (TorchSharp PRs #1434/#1496, open, dispose these Scalars upstream; drop these classes when a release has them.)
namespace OrleansSweep.Training.Trainer.ScalarSafe;

/// <summary>
/// Constant Scalars for TorchSharp calls that would otherwise convert one implicitly (<c>add(Tensor)</c> passes alpha 1):
/// held by static fields, so never finalized; a c10::Scalar is only read, so threads may share it.
/// </summary>
public static class Scalars
{
    public static readonly Scalar Zero = 0.ToScalar();
    public static readonly Scalar One = 1.ToScalar();
    public static readonly Scalar Two = 2.ToScalar();
}

/// <summary>TorchSharp's Adam (L2 weight decay added to the gradient, as torch.optim.Adam) with a step whose Scalars outlive the native calls.</summary>
public sealed class Adam(IEnumerable<TorchSharp.Modules.Parameter> parameters, double lr, double beta1, double beta2, double eps, double weight_decay)
    : TorchSharp.Modules.Adam(parameters, lr, beta1, beta2, eps, weight_decay)
{
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var options = group.Options;
        double beta1 = options.beta1!.Value, beta2 = options.beta2!.Value, weightDecay = options.weight_decay!.Value;
        double eps = options.eps!.Value, lr = options.LearningRate!.Value;
        if (options.amsgrad == true || options.maximize == true)
            throw new NotSupportedException("amsgrad and maximize are not used by the trainer and not implemented here.");
        using var beta1Scalar = beta1.ToScalar();
        using var beta2Scalar = beta2.ToScalar();
        using var gradientWeight = (1 - beta1).ToScalar();
        using var squareWeight = (1 - beta2).ToScalar();
        using var decay = weightDecay.ToScalar();
        using var epsScalar = eps.ToScalar();
        foreach (var param in group.Parameters)
        {
            var state = (State)_state[param.Handle];
            var grad = param.grad;
            if (grad is null) continue;
            state.step += 1;
            double biasCorrection1 = 1 - Math.Pow(beta1, state.step);
            double biasCorrection2 = 1 - Math.Pow(beta2, state.step);
            if (weightDecay != 0) grad = grad.add(param, decay);
            state.exp_avg.mul_(beta1Scalar).add_(grad, gradientWeight);
            state.exp_avg_sq.mul_(beta2Scalar).addcmul_(grad, grad.conj(), squareWeight);
            using var sqrtBiasCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
            var denominator = state.exp_avg_sq.sqrt().div(sqrtBiasCorrection2).add_(epsScalar, Scalars.One); // add_(Scalar) alone passes an implicit alpha of 1
            using var stepSize = (-(lr / biasCorrection1)).ToScalar();
            param.addcdiv_(state.exp_avg, denominator, stepSize);
        }
    }, closure);
}

/// <summary>TorchSharp's SGD (momentum with dampening 0, L2 weight decay) with a step whose Scalars outlive the native calls.</summary>
public sealed class SGD(IEnumerable<TorchSharp.Modules.Parameter> parameters, double lr, double momentum, double weight_decay)
    : TorchSharp.Modules.SGD(parameters, lr, momentum, weight_decay: weight_decay)
{
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var options = group.Options;
        double momentum = options.momentum!.Value, dampening = options.dampening!.Value, weightDecay = options.weight_decay!.Value;
        double lr = options.LearningRate!.Value;
        if (options.nesterov == true || options.maximize == true)
            throw new NotSupportedException("nesterov and maximize are not used by the trainer and not implemented here.");
        using var momentumScalar = momentum.ToScalar();
        using var gradientWeight = (1 - dampening).ToScalar();
        using var decay = weightDecay.ToScalar();
        using var negativeLr = (-lr).ToScalar();
        foreach (var param in group.Parameters)
        {
            var state = (State)_state[param.Handle];
            var grad = param.grad;
            if (grad is null) continue;
            if (weightDecay != 0) grad = grad.add(param, decay);
            if (momentum != 0)
            {
                var buffer = state.momentum_buffer;
                if (buffer is null) state.momentum_buffer = buffer = grad.clone().detach().DetachFromDisposeScope();
                else buffer.mul_(momentumScalar).add_(grad, gradientWeight);
                grad = buffer;
            }
            param.add_(grad, negativeLr);
        }
    }, closure);
}
