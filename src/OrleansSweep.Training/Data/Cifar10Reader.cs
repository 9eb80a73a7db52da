namespace OrleansSweep.Training.Data;

/// <summary>
/// Reads the binary version of CIFAR-10: records of 1 label byte + 3072 pixel bytes (1024 red, 1024 green, 1024 blue,
/// each row-major 32x32), training files data_batch_1..5.bin, test file test_batch.bin.
/// </summary>
public static class Cifar10Reader
{
    public const int ImageSize = 32;
    public const int RecordLength = 1 + 3 * ImageSize * ImageSize;
    public static readonly string[] TrainFiles = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];
    public const string TestFile = "test_batch.bin";

    public static ImageSet Read(IReadOnlyList<string> paths)
    {
        var pixels = new List<byte[]>();
        var labels = new List<byte>();
        foreach (string path in paths)
        {
            byte[] bytes;
            try { bytes = File.ReadAllBytes(path); }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new DatasetException($"{path}: file not found.");
            }
            if (bytes.Length == 0 || bytes.Length % RecordLength != 0)
                throw new DatasetException(
                    $"{path}: wrong record size: {bytes.Length} bytes is not a whole number of {RecordLength}-byte records (1 label + 3072 pixels); " +
                    "is this the binary version of CIFAR-10?");
            int records = bytes.Length / RecordLength;
            var filePixels = new byte[records * (RecordLength - 1)];
            for (int r = 0; r < records; r++)
            {
                byte label = bytes[r * RecordLength];
                if (label > 9) throw new DatasetException($"{path}: record {r} has label {label} (expected 0-9); is this the binary version of CIFAR-10?");
                labels.Add(label);
                Array.Copy(bytes, r * RecordLength + 1, filePixels, r * (RecordLength - 1), RecordLength - 1);
            }
            pixels.Add(filePixels);
        }
        var all = new byte[pixels.Sum(p => (long)p.Length)];
        long offset = 0;
        foreach (var p in pixels) { p.CopyTo(all, offset); offset += p.Length; }
        return new ImageSet(all, labels.ToArray(), 3, ImageSize, ImageSize, string.Join(", ", paths));
    }
}
