using System.Buffers.Binary;
using System.Text;
using OrleansSweep.Training.Native;

namespace OrleansSweep.Training.Tests;

public class ElfVersionPatcherTests
{
    private const string LibStdCxx = "libstdc++.so.6";
    private const string Needed = "GLIBCXX_3.4.32";

    /// <summary>
    /// A minimal ELF64 object with a .dynstr and a .gnu.version_r: libc.so.6 needs GLIBC_2.34; libstdc++.so.6 needs
    /// the given versions (in order), with the given vna_flags.
    /// </summary>
    internal static byte[] BuildElf(params (string Version, ushort Flags)[] libStdCxxVersions)
    {
        var strings = new List<byte> { 0 };
        int Add(string s) { int at = strings.Count; strings.AddRange(Encoding.ASCII.GetBytes(s)); strings.Add(0); return at; }
        int libc = Add("libc.so.6"), glibc = Add("GLIBC_2.34"), libstdcxx = Add(LibStdCxx);
        var versionNames = libStdCxxVersions.Select(v => Add(v.Version)).ToArray();

        const int header = 64;
        int dynstrOffset = header, dynstrSize = strings.Count;
        int verneedOffset = (dynstrOffset + dynstrSize + 7) & ~7;
        int verneedSize = 16 + 16 + 16 + 16 * libStdCxxVersions.Length;
        int sectionsOffset = (verneedOffset + verneedSize + 7) & ~7;
        var elf = new byte[sectionsOffset + 3 * 64];

        "\u007fELF"u8.CopyTo(elf);
        elf[4] = 2; elf[5] = 1; elf[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x10), 3); // ET_DYN
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x12), 62); // x86-64
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(0x28), (ulong)sectionsOffset);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x34), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x3A), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x3C), 3);
        strings.ToArray().CopyTo(elf, dynstrOffset);

        // Verneed 1: libc.so.6, one Vernaux; Verneed 2: libstdc++.so.6 with its Vernaux chain.
        int v1 = verneedOffset, a1 = v1 + 16, v2 = a1 + 16, a2 = v2 + 16;
        WriteVerneed(elf, v1, 1, libc, 16, (uint)(v2 - v1));
        WriteVernaux(elf, a1, 0x06969194, 0, 2, glibc, 0);
        WriteVerneed(elf, v2, (ushort)libStdCxxVersions.Length, libstdcxx, 16, 0);
        for (int i = 0; i < libStdCxxVersions.Length; i++)
            WriteVernaux(elf, a2 + 16 * i, 0x08922974u + (uint)i, libStdCxxVersions[i].Flags, (ushort)(3 + i), versionNames[i],
                i == libStdCxxVersions.Length - 1 ? 0u : 16u);

        WriteSection(elf, sectionsOffset + 64, type: 3, offset: dynstrOffset, size: dynstrSize, link: 0, info: 0);
        WriteSection(elf, sectionsOffset + 128, type: 0x6ffffffe, offset: verneedOffset, size: verneedSize, link: 1, info: 2);
        return elf;
    }

    private static void WriteVerneed(byte[] elf, int at, ushort count, int file, uint aux, uint next)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(at), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(at + 2), count);
        BinaryPrimitives.WriteUInt32LittleEndian(elf.AsSpan(at + 4), (uint)file);
        BinaryPrimitives.WriteUInt32LittleEndian(elf.AsSpan(at + 8), aux);
        BinaryPrimitives.WriteUInt32LittleEndian(elf.AsSpan(at + 12), next);
    }

    private static void WriteVernaux(byte[] elf, int at, uint hash, ushort flags, ushort other, int name, uint next)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(elf.AsSpan(at), hash);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(at + 4), flags);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(at + 6), other);
        BinaryPrimitives.WriteUInt32LittleEndian(elf.AsSpan(at + 8), (uint)name);
        BinaryPrimitives.WriteUInt32LittleEndian(elf.AsSpan(at + 12), next);
    }

    private static void WriteSection(byte[] elf, int at, uint type, int offset, int size, uint link, uint info)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(elf.AsSpan(at + 4), type);
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(at + 0x18), (ulong)offset);
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(at + 0x20), (ulong)size);
        BinaryPrimitives.WriteUInt32LittleEndian(elf.AsSpan(at + 0x28), link);
        BinaryPrimitives.WriteUInt32LittleEndian(elf.AsSpan(at + 0x2C), info);
    }

    private static int[] DifferingOffsets(byte[] a, byte[] b) =>
        Enumerable.Range(0, a.Length).Where(i => a[i] != b[i]).ToArray();

    [Fact]
    public void Sets_exactly_the_weak_flag_of_exactly_that_entry()
    {
        var original = BuildElf(("GLIBCXX_3.4.30", 0), (Needed, 0), ("GLIBCXX_3.4.29", 0));
        var patched = (byte[])original.Clone();

        Assert.Equal(ElfPatchOutcome.Patched, ElfVersionPatcher.MarkVersionWeak(patched, LibStdCxx, Needed));

        long flagsOffset = ElfVersionPatcher.FindVersionFlagsOffset(original, LibStdCxx, Needed)!.Value;
        Assert.Equal([(int)flagsOffset], DifferingOffsets(original, patched));
        Assert.Equal(original[flagsOffset] | ElfVersionPatcher.VerFlagWeak, patched[flagsOffset]);
    }

    [Fact]
    public void Keeps_other_flag_bits()
    {
        var original = BuildElf((Needed, 0x1));
        var patched = (byte[])original.Clone();
        ElfVersionPatcher.MarkVersionWeak(patched, LibStdCxx, Needed);
        long at = ElfVersionPatcher.FindVersionFlagsOffset(patched, LibStdCxx, Needed)!.Value;
        Assert.Equal(0x3, BinaryPrimitives.ReadUInt16LittleEndian(patched.AsSpan((int)at)));
    }

    [Fact]
    public void A_file_already_patched_is_left_byte_identical()
    {
        var elf = BuildElf(("GLIBCXX_3.4.30", 0), (Needed, 0));
        ElfVersionPatcher.MarkVersionWeak(elf, LibStdCxx, Needed);
        var again = (byte[])elf.Clone();
        Assert.Equal(ElfPatchOutcome.AlreadyWeak, ElfVersionPatcher.MarkVersionWeak(again, LibStdCxx, Needed));
        Assert.Equal(elf, again);
    }

    [Fact]
    public void A_file_that_does_not_need_the_version_is_left_byte_identical()
    {
        var elf = BuildElf(("GLIBCXX_3.4.30", 0), ("GLIBCXX_3.4.29", 0));
        var copy = (byte[])elf.Clone();
        Assert.Equal(ElfPatchOutcome.NotRequired, ElfVersionPatcher.MarkVersionWeak(copy, LibStdCxx, Needed));
        Assert.Equal(elf, copy);
        // The same version name under another library is not touched either.
        Assert.Equal(ElfPatchOutcome.NotRequired, ElfVersionPatcher.MarkVersionWeak(copy, "libc.so.6", Needed));
        Assert.Equal(elf, copy);
    }

    [Fact]
    public void A_non_elf_file_gives_a_clear_error()
    {
        var text = Encoding.ASCII.GetBytes("#!/bin/sh\necho this is a script, not a shared library\n" + new string(' ', 100));
        var error = Assert.Throws<InvalidElfException>(() => ElfVersionPatcher.MarkVersionWeak(text, LibStdCxx, Needed, "lib.so"));
        Assert.Equal("lib.so: not an ELF file (expected the magic bytes 7F 45 4C 46 at offset 0).", error.Message);
    }

    [Fact]
    public void A_32_bit_elf_gives_a_clear_error()
    {
        var elf = BuildElf((Needed, 0));
        elf[4] = 1;
        var error = Assert.Throws<InvalidElfException>(() => ElfVersionPatcher.MarkVersionWeak(elf, LibStdCxx, Needed, "lib.so"));
        Assert.Contains("not a 64-bit ELF file", error.Message);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(100)]
    [InlineData(-64)]
    public void A_truncated_file_gives_a_clear_error_and_is_not_changed(int keep)
    {
        var full = BuildElf(("GLIBCXX_3.4.30", 0), (Needed, 0));
        var truncated = full.AsSpan(0, keep > 0 ? keep : full.Length + keep).ToArray();
        var copy = (byte[])truncated.Clone();
        var error = Assert.Throws<InvalidElfException>(() => ElfVersionPatcher.MarkVersionWeak(copy, LibStdCxx, Needed, "lib.so"));
        Assert.StartsWith("lib.so: ", error.Message);
        Assert.True(error.Message.Contains("truncated") || error.Message.Contains("not an ELF file"), error.Message);
        Assert.Equal(truncated, copy);
    }

    [Fact]
    public void On_the_real_libLibTorchSharp_exactly_one_byte_changes()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"{path} should be copied by the TorchSharp-cpu package");
        var original = File.ReadAllBytes(path);
        var patched = (byte[])original.Clone();
        var outcome = ElfVersionPatcher.MarkVersionWeak(patched, LibStdCxx, Needed, path);
        Assert.Equal(ElfPatchOutcome.Patched, outcome);
        var differing = DifferingOffsets(original, patched);
        Assert.Single(differing);
        Assert.Equal(ElfVersionPatcher.VerFlagWeak, patched[differing[0]] ^ original[differing[0]]);
    }
}
