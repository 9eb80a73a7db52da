using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OrleansSweep.Core.Specs;

namespace OrleansSweep.Core.Trials;

public static class TrialFingerprint
{
    /// <summary>
    /// SHA-256 of everything that shapes a trial's training: a checkpoint only resumes the trial it came from. The
    /// analysis settings are left out: they act after training, so changing them keeps the trained checkpoints.
    /// </summary>
    public static string Compute(TrialSpec trial) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            JsonSerializer.Serialize(trial with { Analysis = null }, SweepSpecLoader.JsonOptions))));
}
