using System.Security.Cryptography;
using System.Text;

namespace OrleansSweep.Core.Specs;

public static class SpecFingerprint
{
    /// <summary>SHA-256 of the spec's canonical JSON: equal specs, equal fingerprints, whatever their file's layout.</summary>
    public static string Compute(SweepSpec spec) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(SweepSpecLoader.ToJson(spec))));
}
