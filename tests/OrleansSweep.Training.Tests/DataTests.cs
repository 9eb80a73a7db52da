using OrleansSweep.Core.Specs;
using OrleansSweep.TestSupport;
using OrleansSweep.Training.Data;

namespace OrleansSweep.Training.Tests;

public class DataTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Reads_generated_idx_files_gzip_or_raw(bool compress)
    {
        using var dir = new TemporaryDirectory();
        SyntheticFashion.Write(dir.Path, trainCount: 50, testCount: 20, compress: compress);
        var data = DatasetCatalog.Load(new DatasetSpec { Name = "fashion-mnist", Path = dir.Path });
        Assert.Equal((50, 20, 1, 28, 28), (data.Train.Count, data.Test.Count, data.Train.Channels, data.Train.Height, data.Train.Width));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (byte)(i % 10)), data.Train.Labels);
    }

    [Fact]
    public void Bad_magic_is_named()
    {
        using var dir = new TemporaryDirectory();
        string path = dir.Combine("x.idx");
        File.WriteAllBytes(path, [0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0]);
        var error = Assert.Throws<DatasetException>(() => IdxReader.Read(path));
        Assert.Equal($"{path}: bad magic number (expected an IDX file starting with 00 00 08 <dims>).", error.Message);
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(bytes);
        return output.ToArray();
    }

    [Fact]
    public void A_gzip_file_is_read_straight_into_its_data_and_one_of_several_members_or_a_cut_one_still_reads_or_is_named()
    {
        using var dir = new TemporaryDirectory();
        var pixels = Enumerable.Range(0, 3 * 4 * 4).Select(i => (byte)i).ToArray();
        var idx = SyntheticFashion.Idx(pixels, 3, 4, 4);
        string single = dir.Combine("single.gz"), members = dir.Combine("members.gz"), cut = dir.Combine("cut.gz");
        File.WriteAllBytes(single, Gzip(idx));
        // gzip -c a b > ab.gz: two members, the trailer holds only the second one's length.
        File.WriteAllBytes(members, [.. Gzip(idx[..10]), .. Gzip(idx[10..])]);
        File.WriteAllBytes(cut, Gzip(idx)[..^20]); // the trailer and some data gone
        Assert.Equal(pixels, IdxReader.Read(single).Data);
        Assert.Equal(pixels, IdxReader.Read(members).Data);
        var error = Assert.Throws<DatasetException>(() => IdxReader.Read(cut));
        Assert.StartsWith($"{cut}: ", error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void Truncated_data_is_named_with_the_sizes()
    {
        using var dir = new TemporaryDirectory();
        string path = dir.Combine("images.idx");
        var full = SyntheticFashion.Idx(new byte[3 * 4 * 4], 3, 4, 4);
        File.WriteAllBytes(path, full[..^5]);
        var error = Assert.Throws<DatasetException>(() => IdxReader.Read(path));
        Assert.Contains($"{path}: truncated: the header promises 48 bytes", error.Message);
    }

    [Fact]
    public void Dimensions_whose_product_overflows_are_truncation_not_an_overflow()
    {
        using var dir = new TemporaryDirectory();
        string path = dir.Combine("images.idx");
        // 4 x 2^31-1 dimensions: their product overflows a long; the file holds 16 bytes.
        var header = new byte[] { 0, 0, 8, 4, 0x7F, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF };
        File.WriteAllBytes(path, [.. header, .. new byte[16]]);
        var error = Assert.Throws<DatasetException>(() => IdxReader.Read(path));
        Assert.Equal($"{path}: truncated: the header's dimensions [2147483647, 2147483647, 2147483647, 2147483647] promise more data than the 16 bytes the file holds.", error.Message);
    }

    [Fact]
    public void Images_of_another_size_than_28_by_28_are_named()
    {
        using var dir = new TemporaryDirectory();
        File.WriteAllBytes(dir.Combine("i"), SyntheticFashion.Idx(new byte[2 * 1 * 1], 2, 1, 1));
        File.WriteAllBytes(dir.Combine("l"), SyntheticFashion.Idx([3, 1], 2));
        var error = Assert.Throws<DatasetException>(() => IdxReader.ReadImageSet(dir.Combine("i"), dir.Combine("l")));
        Assert.Equal($"{dir.Combine("i")}: images are 1x1 (expected 28x28, as MNIST and Fashion-MNIST).", error.Message);
    }

    [Fact]
    public void A_truncated_gzip_stream_is_named()
    {
        using var dir = new TemporaryDirectory();
        string path = dir.Combine("images.idx.gz");
        var gz = SyntheticFashion.Encode(SyntheticFashion.Idx(new byte[1000], 10, 10, 10), compress: true);
        File.WriteAllBytes(path, gz[..(gz.Length / 2)]);
        var error = Assert.Throws<DatasetException>(() => IdxReader.Read(path));
        Assert.StartsWith($"{path}: ", error.Message);
    }

    [Fact]
    public void Label_and_image_count_mismatch_is_named()
    {
        using var dir = new TemporaryDirectory();
        File.WriteAllBytes(dir.Combine("i"), SyntheticFashion.Idx(new byte[5 * 28 * 28], 5, 28, 28));
        File.WriteAllBytes(dir.Combine("l"), SyntheticFashion.Idx(new byte[4], 4));
        var error = Assert.Throws<DatasetException>(() => IdxReader.ReadImageSet(dir.Combine("i"), dir.Combine("l")));
        Assert.Equal($"{dir.Combine("l")}: 4 labels for 5 images in {dir.Combine("i")} (counts must match).", error.Message);
    }

    [Fact]
    public void Out_of_range_labels_are_named()
    {
        using var dir = new TemporaryDirectory();
        File.WriteAllBytes(dir.Combine("i"), SyntheticFashion.Idx(new byte[2 * 28 * 28], 2, 28, 28));
        File.WriteAllBytes(dir.Combine("l"), SyntheticFashion.Idx([3, 12], 2));
        var error = Assert.Throws<DatasetException>(() => IdxReader.ReadImageSet(dir.Combine("i"), dir.Combine("l")));
        Assert.Contains("label 12 at index 1 is out of range", error.Message);
    }

    [Fact]
    public void Missing_system_dataset_says_how_to_install_it()
    {
        using var dir = new TemporaryDirectory();
        var error = Assert.Throws<DatasetException>(() => DatasetCatalog.EnsureAvailable(new DatasetSpec { Name = "fashion-mnist", Path = dir.Path }));
        Assert.Contains($"Fashion-MNIST not found in {dir.Path}: missing train-images-idx3-ubyte.gz", error.Message);
        Assert.Contains("apt-get install dataset-fashion-mnist", error.Message);
    }

    [Fact]
    public void Stratified_subsets_are_balanced_and_deterministic()
    {
        using var dir = new TemporaryDirectory();
        SyntheticFashion.Write(dir.Path, trainCount: 300, testCount: 10);
        var train = IdxReader.ReadImageSet(dir.Combine("train-images-idx3-ubyte.gz"), dir.Combine("train-labels-idx1-ubyte.gz"));

        var subset = train.StratifiedSubset(45, seed: 3);
        Assert.Equal(45, subset.Count);
        var perClass = subset.Labels.GroupBy(l => l).Select(g => g.Count()).ToList();
        Assert.Equal(10, perClass.Count);
        Assert.All(perClass, c => Assert.InRange(c, 4, 5));
        Assert.Equal(subset.Pixels, train.StratifiedSubset(45, seed: 3).Pixels);
        Assert.NotEqual(subset.Pixels, train.StratifiedSubset(45, seed: 4).Pixels);
        Assert.Same(train, train.StratifiedSubset(1000, seed: 3));
    }
}
