using System.Buffers.Binary;
using System.IO.Compression;

namespace OrleansSweep.Training.Data;

/// <summary>Reads IDX files (the MNIST / Fashion-MNIST format), gzip-compressed or raw.</summary>
public static class IdxReader
{
    private const byte UnsignedByte = 0x08;

    /// <summary>An IDX array of unsigned bytes: its dimensions and data.</summary>
    public sealed record IdxArray(int[] Dimensions, byte[] Data);

    public static IdxArray Read(string path)
    {
        byte[] bytes;
        try { bytes = ReadMaybeCompressed(path); }
        catch (FileNotFoundException) { throw new DatasetException($"{path}: file not found."); }
        catch (DirectoryNotFoundException) { throw new DatasetException($"{path}: file not found."); }
        catch (InvalidDataException e) { throw new DatasetException($"{path}: corrupt gzip stream ({e.Message})."); }
        catch (EndOfStreamException) { throw new DatasetException($"{path}: truncated gzip stream."); }
        return Parse(bytes, path);
    }

    public static IdxArray Parse(ReadOnlySpan<byte> bytes, string path)
    {
        if (bytes.Length < 4 || bytes[0] != 0 || bytes[1] != 0)
            throw new DatasetException($"{path}: bad magic number (expected an IDX file starting with 00 00 08 <dims>).");
        if (bytes[2] != UnsignedByte)
            throw new DatasetException($"{path}: IDX element type 0x{bytes[2]:X2} is not supported (expected 0x08, unsigned bytes).");
        int dimensionCount = bytes[3];
        if (dimensionCount < 1)
            throw new DatasetException($"{path}: bad magic number (an IDX file needs at least one dimension).");
        int headerLength = 4 + 4 * dimensionCount;
        if (bytes.Length < headerLength)
            throw new DatasetException($"{path}: truncated header ({bytes.Length} bytes; {headerLength} expected for {dimensionCount} dimensions).");
        var dimensions = new int[dimensionCount];
        for (int i = 0; i < dimensionCount; i++)
        {
            uint size = BinaryPrimitives.ReadUInt32BigEndian(bytes.Slice(4 + 4 * i, 4));
            if (size > int.MaxValue) throw new DatasetException($"{path}: dimension {i} is {size}, too large.");
            dimensions[i] = (int)size;
        }
        long available = bytes.Length - headerLength;
        // A header of huge dimensions must not overflow into a small (or negative) size.
        long elements = 1;
        foreach (int size in dimensions)
        {
            if (size != 0 && elements > long.MaxValue / size)
                throw new DatasetException($"{path}: truncated: the header's dimensions [{string.Join(", ", dimensions)}] promise more data than the {available} bytes the file holds.");
            elements *= size;
        }
        if (available < elements)
            throw new DatasetException($"{path}: truncated: the header promises {elements} bytes of data for dimensions [{string.Join(", ", dimensions)}], the file holds {available}.");
        if (available > elements)
            throw new DatasetException($"{path}: {available - elements} unexpected bytes after the data of dimensions [{string.Join(", ", dimensions)}].");
        return new IdxArray(dimensions, bytes.Slice(headerLength).ToArray());
    }

    /// <summary>MNIST and Fashion-MNIST images are 28 x 28; the models' shapes are chosen for it.</summary>
    public const int ExpectedSide = 28;

    /// <summary>Reads an image file (N x H x W) and its label file (N) into an <see cref="ImageSet"/>.</summary>
    public static ImageSet ReadImageSet(string imagesPath, string labelsPath)
    {
        var images = Read(imagesPath);
        var labels = Read(labelsPath);
        if (images.Dimensions.Length != 3)
            throw new DatasetException($"{imagesPath}: expected 3 dimensions (count x rows x columns), found {images.Dimensions.Length}.");
        if (labels.Dimensions.Length != 1)
            throw new DatasetException($"{labelsPath}: expected 1 dimension (count), found {labels.Dimensions.Length}.");
        if (images.Dimensions[0] != labels.Dimensions[0])
            throw new DatasetException($"{labelsPath}: {labels.Dimensions[0]} labels for {images.Dimensions[0]} images in {imagesPath} (counts must match).");
        if (images.Dimensions[0] == 0)
            throw new DatasetException($"{imagesPath}: the file holds no images.");
        if (images.Dimensions[1] != ExpectedSide || images.Dimensions[2] != ExpectedSide)
            throw new DatasetException($"{imagesPath}: images are {images.Dimensions[1]}x{images.Dimensions[2]} (expected {ExpectedSide}x{ExpectedSide}, as MNIST and Fashion-MNIST).");
        int badLabel = Array.FindIndex(labels.Data, l => l > 9);
        if (badLabel >= 0)
            throw new DatasetException($"{labelsPath}: label {labels.Data[badLabel]} at index {badLabel} is out of range (expected 0-9).");
        return new ImageSet(images.Data, labels.Data, 1, images.Dimensions[1], images.Dimensions[2], imagesPath);
    }

    private static byte[] ReadMaybeCompressed(string path)
    {
        using var file = File.OpenRead(path);
        Span<byte> head = stackalloc byte[2];
        int read = file.ReadAtLeast(head, 2, throwOnEndOfStream: false);
        file.Position = 0;
        using var buffer = new MemoryStream();
        if (read == 2 && head[0] == 0x1f && head[1] == 0x8b)
        {
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            gzip.CopyTo(buffer);
        }
        else
        {
            file.CopyTo(buffer);
        }
        return buffer.ToArray();
    }
}
