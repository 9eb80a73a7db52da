using System.Buffers.Binary;
using System.IO.Compression;

namespace OrleansSweep.TestSupport;

/// <summary>
/// Writes tiny Fashion-MNIST-shaped IDX files: 28x28 images of 10 classes, each class a bright 8x8 patch at its own
/// place plus seeded noise. Easy to learn in a few steps, so tests train real models on it in seconds.
/// </summary>
public static class SyntheticFashion
{
    public const int Size = 28;

    public static void Write(string directory, int trainCount = 512, int testCount = 128, int seed = 1, bool compress = true)
    {
        Directory.CreateDirectory(directory);
        var random = new Random(seed);
        WriteSet(directory, "train", trainCount, random, compress);
        WriteSet(directory, "t10k", testCount, random, compress);
    }

    private static void WriteSet(string directory, string prefix, int count, Random random, bool compress)
    {
        var labels = new byte[count];
        var pixels = new byte[count * Size * Size];
        for (int i = 0; i < count; i++)
        {
            int label = i % 10;
            labels[i] = (byte)label;
            int top = 2 + (label / 5) * 14, left = 1 + (label % 5) * 5;
            for (int y = 0; y < Size; y++)
            for (int x = 0; x < Size; x++)
            {
                bool inPatch = y >= top && y < top + 8 && x >= left && x < left + 6;
                int value = (inPatch ? 200 : 20) + random.Next(-20, 21);
                pixels[i * Size * Size + y * Size + x] = (byte)Math.Clamp(value, 0, 255);
            }
        }
        string suffix = compress ? ".gz" : "";
        File.WriteAllBytes(Path.Combine(directory, $"{prefix}-images-idx3-ubyte{suffix}"), Encode(Idx(pixels, count, Size, Size), compress));
        File.WriteAllBytes(Path.Combine(directory, $"{prefix}-labels-idx1-ubyte{suffix}"), Encode(Idx(labels, count), compress));
    }

    /// <summary>An IDX file of unsigned bytes with the given dimensions.</summary>
    public static byte[] Idx(byte[] data, params int[] dimensions)
    {
        var bytes = new byte[4 + 4 * dimensions.Length + data.Length];
        bytes[2] = 0x08;
        bytes[3] = (byte)dimensions.Length;
        for (int i = 0; i < dimensions.Length; i++)
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dimensions[i]);
        data.CopyTo(bytes, 4 + 4 * dimensions.Length);
        return bytes;
    }

    public static byte[] Encode(byte[] bytes, bool compress)
    {
        if (!compress) return bytes;
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest)) gzip.Write(bytes);
        return output.ToArray();
    }

    /// <summary>A valid spec over a generated dataset directory, with small defaults a test can override.</summary>
    public static string SpecJson(string name, string dataDirectory, int[]? batchSizes = null, string[]? learningRates = null,
        string[]? bnModes = null, int epochs = 2, int[]? seeds = null) => $$"""
        {
          "name": "{{name}}",
          "dataset": { "name": "fashion-mnist", "path": {{System.Text.Json.JsonSerializer.Serialize(dataDirectory)}} },
          "model": { "architecture": "resnet8" },
          "training": { "epochs": {{epochs}}, "schedule": "constant" },
          "grid": {
            "batchSizes": [{{string.Join(", ", batchSizes ?? [32])}}],
            "baseLearningRates": [{{string.Join(", ", (learningRates ?? ["2^-6"]).Select(l => $"\"{l}\""))}}],
            "bnModes": [{{string.Join(", ", (bnModes ?? ["none"]).Select(b => $"\"{b}\""))}}],
            "seeds": [{{string.Join(", ", seeds ?? [0])}}]
          }
        }
        """;
}
