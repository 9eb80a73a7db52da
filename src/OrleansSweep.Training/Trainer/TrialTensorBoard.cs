using System.Globalization;
using System.Text;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using static TorchSharp.torch.utils;

namespace OrleansSweep.Training.Trainer;

/// <summary>
/// A trial's TensorBoard run: TorchSharp's <c>SummaryWriter</c> (TFRecord event files, the format PyTorch's writes)
/// in the trial's own directory, so `tensorboard --logdir &lt;study&gt;/tensorboard` shows one run per trial.
/// <list type="bullet">
/// <item>Per epoch, with the epoch as step: <c>epoch/train_loss</c>, <c>epoch/train_accuracy</c>, <c>epoch/test_loss</c>,
/// <c>epoch/test_accuracy</c>, <c>epoch/seconds</c>, <c>epoch/learning_rate</c> (at the epoch's last step), so runs of
/// different batch sizes line up.</item>
/// <item>Every <see cref="StepInterval"/> SGD steps, with the global step: <c>step/train_loss</c> (that step's batch) and
/// <c>step/learning_rate</c>; the step at which a trial diverges is always written.</item>
/// <item>Once, at the trial's first step: <c>hparams</c>, the trial's hyperparameters as a text table.</item>
/// </list>
/// A resumed trial appends a new event file to the same run; the steps between its checkpoint and its interruption
/// appear twice (the values are the same on CPU, where resuming is bit-identical).
/// </summary>
public sealed class TrialTensorBoard
{
    /// <summary>Steps between two <c>step/*</c> points: fine enough for a curve, a few KB per thousand steps.</summary>
    public const int StepInterval = 10;

    private readonly TorchSharp.Modules.SummaryWriter _writer;

    public TrialTensorBoard(string runDirectory, TrialSpec trial, long firstStep)
    {
        _writer = tensorboard.SummaryWriter(runDirectory);
        if (firstStep == 0) _writer.add_text("hparams", Hyperparameters(trial), 0);
    }

    /// <summary>After SGD step <paramref name="step"/> (1-based): written every <see cref="StepInterval"/> steps, or when <paramref name="always"/>.</summary>
    public void Step(long step, double loss, double learningRate, bool always = false)
    {
        if (!always && step % StepInterval != 0) return;
        int at = Clamp(step);
        _writer.add_scalar("step/train_loss", (float)loss, at);
        _writer.add_scalar("step/learning_rate", (float)learningRate, at);
    }

    public void Epoch(EpochMetrics metrics, double learningRate)
    {
        _writer.add_scalar("epoch/train_loss", (float)metrics.TrainLoss, metrics.Epoch);
        if (metrics.TrainAccuracy is double trainAccuracy) _writer.add_scalar("epoch/train_accuracy", (float)trainAccuracy, metrics.Epoch);
        _writer.add_scalar("epoch/test_loss", (float)metrics.TestLoss, metrics.Epoch);
        _writer.add_scalar("epoch/test_accuracy", (float)metrics.TestAccuracy, metrics.Epoch);
        _writer.add_scalar("epoch/seconds", (float)metrics.Seconds, metrics.Epoch);
        _writer.add_scalar("epoch/learning_rate", (float)learningRate, metrics.Epoch);
    }

    /// <summary>The trial's cell and settings as a Markdown table (TensorBoard's text tab renders it).</summary>
    public static string Hyperparameters(TrialSpec trial)
    {
        var rows = new (string Name, string Value)[]
        {
            ("trial", trial.TrialId), ("sweep", trial.SweepName), ("batch size m", Number(trial.BatchSize)),
            ("base LR eta~", LearningRateFormat.Format(trial.BaseLearningRate)), ("LR eta = m eta~", Number(trial.LearningRate)),
            ("BN mode", trial.BnMode), ("seed", Number(trial.Seed)), ("model", trial.Model.Architecture),
            ("dataset", trial.Dataset.Name), ("optimizer", trial.Training.Optimizer ?? "sgd"), ("epochs", Number(trial.Training.Epochs)),
            ("momentum", Number(trial.Training.Momentum)), ("weight decay", Number(trial.Training.WeightDecay)),
        };
        var text = new StringBuilder("| hyperparameter | value |\n|---|---|\n");
        foreach (var (name, value) in rows) text.Append(CultureInfo.InvariantCulture, $"| {name} | {value.Replace("|", "\\|", StringComparison.Ordinal)} |\n");
        return text.ToString();
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>TorchSharp's writer takes an int step; a trial of more than 2^31 steps keeps its last point there.</summary>
    private static int Clamp(long step) => (int)Math.Min(step, int.MaxValue);
}
