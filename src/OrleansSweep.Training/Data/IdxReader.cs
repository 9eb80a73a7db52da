using System.Buffers.Binary;
using System.IO.Compression;

namespace OrleansSweep.Training.Data;

/// <summary>Reads IDX files (the MNIST / Fashion-MNIST format), gzip-compressed or raw.</summary>
public static class IdxReader
{
    private const byte UnsignedByte = 0x08;

    /// <summary>An IDX array of unsigned bytes: its dimensions and data.</summary>
    public sealed record IdxArray(int[] Dimensions, byte[] Data);

    /// <summary>
    /// Reads the file as a stream into one array of exactly its data's size: the header first, then the data straight
    /// from the (decompressing) stream. Reading it whole first cost about five times the data in transient buffers
    /// (a growing MemoryStream, its copy, the data's copy): 245 MB of peak memory for Fashion-MNIST's 47 MB of images.
    /// </summary>
    public static IdxArray Read(string path)
    {
        try
        {
            using (var file = File.OpenRead(path))
            {
                Span<byte> head = stackalloc byte[2];
                bool gzip = file.ReadAtLeast(head, 2, throwOnEndOfStream: false) == 2 && head[0] == 0x1f && head[1] == 0x8b;
                long length = gzip ? GzipLength(file) : file.Length;
                file.Position = 0;
                using var data = gzip ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
                try { return Parse(data, length, path); }
                catch (Exception e) when (gzip && e is DatasetException or InvalidDataException or EndOfStreamException)
                {
                    // The trailer's length disagrees with the stream (a damaged file, or several gzip members): decompress
                    // it whole below, so the message says what the file really holds. Only a bad file pays for this.
                }
            }
            return Parse(Decompressed(path), path);
        }
        catch (FileNotFoundException) { throw new DatasetException($"{path}: file not found."); }
        catch (DirectoryNotFoundException) { throw new DatasetException($"{path}: file not found."); }
        catch (InvalidDataException e) { throw new DatasetException($"{path}: corrupt gzip stream ({e.Message})."); }
        catch (EndOfStreamException) { throw new DatasetException($"{path}: truncated gzip stream."); }
    }

    /// <summary>
    /// The uncompressed length a gzip file declares in its trailer (ISIZE: the length modulo 2^32; IDX files are far
    /// smaller): what the data is checked against before anything is allocated. A stream that does not hold it is
    /// found out while reading.
    /// </summary>
    private static long GzipLength(FileStream file)
    {
        if (file.Length < 18) return 0; // too short to be a gzip member: decompressing says why
        Span<byte> trailer = stackalloc byte[4];
        file.Position = file.Length - 4;
        file.ReadExactly(trailer);
        return BinaryPrimitives.ReadUInt32LittleEndian(trailer);
    }

    private static byte[] Decompressed(string path)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var buffer = new MemoryStream();
        gzip.CopyTo(buffer);
        return buffer.ToArray();
    }

    public static IdxArray Parse(ReadOnlySpan<byte> bytes, string path)
    {
        using var stream = new MemoryStream(bytes.ToArray(), writable: false);
        return Parse(stream, bytes.Length, path);
    }

    /// <param name="length">The stream's length (what the header's dimensions are checked against).</param>
    private static IdxArray Parse(Stream stream, long length, string path)
    {
        Span<byte> magic = stackalloc byte[4];
        int got = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (got < 4 || magic[0] != 0 || magic[1] != 0)
            throw new DatasetException($"{path}: bad magic number (expected an IDX file starting with 00 00 08 <dims>).");
        if (magic[2] != UnsignedByte)
            throw new DatasetException($"{path}: IDX element type 0x{magic[2]:X2} is not supported (expected 0x08, unsigned bytes).");
        int dimensionCount = magic[3];
        if (dimensionCount < 1)
            throw new DatasetException($"{path}: bad magic number (an IDX file needs at least one dimension).");
        int headerLength = 4 + 4 * dimensionCount;
        var sizes = new byte[4 * dimensionCount];
        int sizesRead = stream.ReadAtLeast(sizes, sizes.Length, throwOnEndOfStream: false);
        if (sizesRead < sizes.Length)
            throw new DatasetException($"{path}: truncated header ({4 + sizesRead} bytes; {headerLength} expected for {dimensionCount} dimensions).");
        var dimensions = new int[dimensionCount];
        for (int i = 0; i < dimensionCount; i++)
        {
            uint size = BinaryPrimitives.ReadUInt32BigEndian(sizes.AsSpan(4 * i, 4));
            if (size > int.MaxValue) throw new DatasetException($"{path}: dimension {i} is {size}, too large.");
            dimensions[i] = (int)size;
        }
        long available = length - headerLength;
        // A header of huge dimensions must not overflow into a small (or negative) size, nor allocate what the file lacks.
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
        if (elements > Array.MaxLength) throw new DatasetException($"{path}: {elements} bytes of data, more than one array holds.");
        var data = new byte[elements];
        int filled = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        if (filled < data.Length)
            throw new DatasetException($"{path}: truncated: the header promises {elements} bytes of data for dimensions [{string.Join(", ", dimensions)}], the file holds {filled}.");
        if (stream.ReadByte() >= 0) // the declared length was wrong (a corrupt gzip trailer): more data than the header says
            throw new DatasetException($"{path}: unexpected bytes after the data of dimensions [{string.Join(", ", dimensions)}].");
        return new IdxArray(dimensions, data);
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
}
