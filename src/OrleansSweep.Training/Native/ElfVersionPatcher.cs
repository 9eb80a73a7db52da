using System.Buffers.Binary;
using System.Text;

namespace OrleansSweep.Training.Native;

/// <summary>What <see cref="ElfVersionPatcher.MarkVersionWeak"/> found and did.</summary>
public enum ElfPatchOutcome
{
    /// <summary>The requirement was strict; its VER_FLG_WEAK bit is now set.</summary>
    Patched,
    /// <summary>The requirement already carried VER_FLG_WEAK: the bytes are unchanged.</summary>
    AlreadyWeak,
    /// <summary>The file does not require that version from that library: the bytes are unchanged.</summary>
    NotRequired,
}

/// <summary>A file that is not a 64-bit little-endian ELF object, or whose tables point outside it.</summary>
public sealed class InvalidElfException(string message) : Exception(message);

/// <summary>
/// Marks one symbol-version requirement of an ELF64 shared object as weak (VER_FLG_WEAK in the
/// <c>vna_flags</c> of its <c>Elf64_Vernaux</c> entry in <c>.gnu.version_r</c>).
/// </summary>
/// <remarks>
/// Why: TorchSharp 0.107.0's libLibTorchSharp.so requires GLIBCXX_3.4.32 from libstdc++.so.6, which Debian 12 and
/// Ubuntu 22.04 lack. The only symbol bound to that version is <c>_ZSt21ios_base_library_initv</c> and no relocation
/// uses it, so the loader may safely accept the library once the requirement is weak (the loader then only warns
/// under LD_DEBUG). Exactly one bit of one entry changes; everything else stays byte-identical.
/// </remarks>
public static class ElfVersionPatcher
{
    public const ushort VerFlagWeak = 0x2;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const int ElfHeaderSize = 64;
    private const int SectionHeaderSize = 64;
    private const int VerneedSize = 16;
    private const int VernauxSize = 16;

    /// <summary>Finds the requirement of <paramref name="version"/> from <paramref name="library"/>, without changing anything.</summary>
    /// <returns>The file offset of the entry's <c>vna_flags</c>, or null when the file does not require it.</returns>
    public static long? FindVersionFlagsOffset(ReadOnlySpan<byte> elf, string library, string version, string fileName = "<memory>")
    {
        var reader = new Reader(elf, fileName);
        if (elf.Length < ElfHeaderSize || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidElfException($"{fileName}: not an ELF file (expected the magic bytes 7F 45 4C 46 at offset 0).");
        if (elf[4] != 2) throw new InvalidElfException($"{fileName}: not a 64-bit ELF file (EI_CLASS is {elf[4]}, expected 2).");
        if (elf[5] != 1) throw new InvalidElfException($"{fileName}: not a little-endian ELF file (EI_DATA is {elf[5]}, expected 1).");

        long sectionTable = (long)reader.U64(0x28, "e_shoff");
        int sectionEntrySize = reader.U16(0x3A, "e_shentsize");
        int sectionCount = reader.U16(0x3C, "e_shnum");
        if (sectionTable == 0 || sectionCount == 0)
            throw new InvalidElfException($"{fileName}: the ELF file has no section headers, so its version requirements cannot be read.");
        if (sectionEntrySize != SectionHeaderSize)
            throw new InvalidElfException($"{fileName}: section header size is {sectionEntrySize}, expected {SectionHeaderSize}.");
        reader.Require(sectionTable, (long)sectionCount * SectionHeaderSize, "the section header table");

        for (int i = 0; i < sectionCount; i++)
        {
            long header = sectionTable + (long)i * SectionHeaderSize;
            if (reader.U32(header + 4, "sh_type") != ShtGnuVerneed) continue;

            long verneedOffset = (long)reader.U64(header + 0x18, "sh_offset");
            long verneedSize = (long)reader.U64(header + 0x20, "sh_size");
            uint stringsIndex = reader.U32(header + 0x28, "sh_link");
            uint verneedCount = reader.U32(header + 0x2C, "sh_info");
            reader.Require(verneedOffset, verneedSize, ".gnu.version_r");
            if (stringsIndex >= sectionCount)
                throw new InvalidElfException($"{fileName}: .gnu.version_r links to section {stringsIndex}, but there are only {sectionCount}.");
            long stringsHeader = sectionTable + stringsIndex * SectionHeaderSize;
            long stringsOffset = (long)reader.U64(stringsHeader + 0x18, "sh_offset");
            long stringsSize = (long)reader.U64(stringsHeader + 0x20, "sh_size");
            reader.Require(stringsOffset, stringsSize, "the version string table");

            long need = verneedOffset;
            for (uint n = 0; n < verneedCount; n++)
            {
                reader.Require(need, VerneedSize, "an Elf64_Verneed entry");
                int auxCount = reader.U16(need + 2, "vn_cnt");
                string file = reader.String(stringsOffset, stringsSize, reader.U32(need + 4, "vn_file"));
                long aux = need + reader.U32(need + 8, "vn_aux");
                if (file == library)
                {
                    for (int a = 0; a < auxCount; a++)
                    {
                        reader.Require(aux, VernauxSize, "an Elf64_Vernaux entry");
                        string name = reader.String(stringsOffset, stringsSize, reader.U32(aux + 8, "vna_name"));
                        if (name == version) return aux + 4;
                        uint nextAux = reader.U32(aux + 12, "vna_next");
                        if (nextAux == 0) break;
                        aux += nextAux;
                    }
                }
                uint next = reader.U32(need + 12, "vn_next");
                if (next == 0) break;
                need += next;
            }
            return null;
        }
        return null;
    }

    /// <summary>Sets VER_FLG_WEAK on the requirement of <paramref name="version"/> from <paramref name="library"/>, in place.</summary>
    public static ElfPatchOutcome MarkVersionWeak(Span<byte> elf, string library, string version, string fileName = "<memory>")
    {
        long? flagsOffset = FindVersionFlagsOffset(elf, library, version, fileName);
        if (flagsOffset is null) return ElfPatchOutcome.NotRequired;
        var flagsSpan = elf.Slice((int)flagsOffset.Value, 2);
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(flagsSpan);
        if ((flags & VerFlagWeak) != 0) return ElfPatchOutcome.AlreadyWeak;
        BinaryPrimitives.WriteUInt16LittleEndian(flagsSpan, (ushort)(flags | VerFlagWeak));
        return ElfPatchOutcome.Patched;
    }

    private readonly ref struct Reader(ReadOnlySpan<byte> bytes, string fileName)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;

        public void Require(long offset, long length, string what)
        {
            if (offset < 0 || length < 0 || offset > _bytes.Length || length > _bytes.Length - offset)
                throw new InvalidElfException(
                    $"{fileName}: truncated or corrupt ELF file: {what} at offset {offset} (+{length} bytes) lies outside the file ({_bytes.Length} bytes).");
        }

        public ushort U16(long offset, string field) { Require(offset, 2, field); return BinaryPrimitives.ReadUInt16LittleEndian(_bytes.Slice((int)offset, 2)); }
        public uint U32(long offset, string field) { Require(offset, 4, field); return BinaryPrimitives.ReadUInt32LittleEndian(_bytes.Slice((int)offset, 4)); }
        public ulong U64(long offset, string field) { Require(offset, 8, field); return BinaryPrimitives.ReadUInt64LittleEndian(_bytes.Slice((int)offset, 8)); }

        public string String(long tableOffset, long tableSize, uint index)
        {
            if (index >= tableSize)
                throw new InvalidElfException($"{fileName}: a version name points at string {index}, beyond the string table ({tableSize} bytes).");
            var rest = _bytes.Slice((int)(tableOffset + index), (int)(tableSize - index));
            int end = rest.IndexOf((byte)0);
            if (end < 0) throw new InvalidElfException($"{fileName}: unterminated string in the version string table.");
            return Encoding.ASCII.GetString(rest[..end]);
        }
    }
}
