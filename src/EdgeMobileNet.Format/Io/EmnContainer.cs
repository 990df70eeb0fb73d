using System.Buffers.Binary;

namespace EdgeMobileNet.Format.Io;

/// <summary>One entry of the section table, bounds-checked against the file.</summary>
internal readonly record struct EmnSection(EmnSectionKind Kind, int Offset, int Length, uint Crc)
{
    public int End => Offset + Length;
}

/// <summary>
/// Validates the header and section table of an .emn file and the checksum of every section, and
/// returns the sections by kind. Nothing inside a section is interpreted here.
/// </summary>
internal static class EmnContainer
{
    public static Dictionary<EmnSectionKind, EmnSection> ReadSections(ReadOnlySpan<byte> file, string source)
    {
        int sectionCount = ReadHeader(file, source);
        ReadOnlySpan<byte> table = file.Slice(EmnFormat.HeaderSize, sectionCount * EmnFormat.SectionEntrySize);
        var sections = new Dictionary<EmnSectionKind, EmnSection>();
        for (int i = 0; i < sectionCount; i++)
        {
            EmnSection section = ReadEntry(table.Slice(i * EmnFormat.SectionEntrySize, EmnFormat.SectionEntrySize), i,
                EmnFormat.HeaderSize + table.Length, file.Length, source);
            if (!sections.TryAdd(section.Kind, section))
                throw EmnErrors.At(source, EntryName(i, section.Kind), "duplicate section kind");
        }
        CheckRequired(sections, source);
        CheckNoOverlap(sections.Values, source);
        foreach (EmnSection section in sections.Values.OrderBy(s => s.Kind))
            VerifyChecksum(file, section, source);
        return sections;
    }

    /// <summary>Checks magic, version, sizes and the header checksum; returns the section count.</summary>
    private static int ReadHeader(ReadOnlySpan<byte> file, string source)
    {
        if (file.Length < EmnFormat.HeaderSize)
            throw new ModelFormatException(
                $"{source}: file is {file.Length} bytes, smaller than the {EmnFormat.HeaderSize}-byte .emn header (truncated or not an .emn file)");
        if (file.Length > EmnFormat.MaxFileLength)
            throw new ModelFormatException($"{source}: file is {file.Length} bytes, exceeds the limit of {EmnFormat.MaxFileLength}");
        ReadOnlySpan<byte> header = file[..EmnFormat.HeaderSize];
        if (!header[..EmnFormat.Magic.Length].SequenceEqual(EmnFormat.Magic))
            throw new ModelFormatException(
                $"{source}: not an .emn file: magic bytes {Convert.ToHexString(header[..8])}, expected {Convert.ToHexString(EmnFormat.Magic)}");

        uint version = ReadUInt32(header, EmnFormat.VersionOffset);
        if (version != EmnFormat.Version)
            throw EmnErrors.At(source, "header", $"unsupported format version {version} (this reader supports version {EmnFormat.Version})");
        uint headerSize = ReadUInt32(header, EmnFormat.HeaderSizeOffset);
        if (headerSize != EmnFormat.HeaderSize)
            throw EmnErrors.At(source, "header", $"header size {headerSize}, must be {EmnFormat.HeaderSize}");
        uint sectionCount = ReadUInt32(header, EmnFormat.SectionCountOffset);
        if (sectionCount < 1 || sectionCount > EmnFormat.MaxSections)
            throw EmnErrors.At(source, "header", $"section count {sectionCount}, must be 1..{EmnFormat.MaxSections}");
        int tableLength = (int)sectionCount * EmnFormat.SectionEntrySize;
        if (EmnFormat.HeaderSize + tableLength > file.Length)
            throw EmnErrors.At(source, "header",
                $"section table ({sectionCount} entries, {tableLength} bytes at offset {EmnFormat.HeaderSize}) extends past the end of the file ({file.Length} bytes)");

        VerifyHeaderChecksum(header, file.Slice(EmnFormat.HeaderSize, tableLength), source);
        CheckHeaderFields(header, file.Length, source);
        return (int)sectionCount;
    }

    private static void VerifyHeaderChecksum(ReadOnlySpan<byte> header, ReadOnlySpan<byte> table, string source)
    {
        uint stored = ReadUInt32(header, EmnFormat.HeaderCrcOffset);
        uint actual = EmnChecksum.ComputeHeader(header, table);
        if (stored != actual)
            throw EmnErrors.At(source, "header",
                $"CRC32C of header and section table is {EmnErrors.Hex(actual)}, stored {EmnErrors.Hex(stored)} (corrupt file)");
    }

    private static void CheckHeaderFields(ReadOnlySpan<byte> header, long actualLength, string source)
    {
        uint flags = ReadUInt32(header, EmnFormat.FlagsOffset);
        if (flags != 0)
            throw EmnErrors.At(source, "header", $"unknown flags {EmnErrors.Hex(flags)}");
        if (header[EmnFormat.ReservedOffset..EmnFormat.HeaderCrcOffset].ContainsAnyExcept((byte)0))
            throw EmnErrors.At(source, "header",
                $"reserved bytes {EmnFormat.ReservedOffset}..{EmnFormat.HeaderCrcOffset - 1} are not zero");
        ulong fileLength = BinaryPrimitives.ReadUInt64LittleEndian(header[EmnFormat.FileLengthOffset..]);
        if (fileLength != (ulong)actualLength)
            throw EmnErrors.At(source, "header",
                $"file length {fileLength}, but the file has {actualLength} bytes ({((ulong)actualLength < fileLength ? "truncated" : "trailing bytes")})");
    }

    private static EmnSection ReadEntry(ReadOnlySpan<byte> entry, int index, int firstSectionByte, int fileLength,
        string source)
    {
        var kind = (EmnSectionKind)ReadUInt32(entry, 0);
        string where = EntryName(index, kind);
        if (!kind.IsKnown())
            throw EmnErrors.At(source, where, $"unknown section kind {(uint)kind}");
        uint crc = ReadUInt32(entry, 4);
        ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(entry[8..]);
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(entry[16..]);
        if (offset < (ulong)firstSectionByte)
            throw EmnErrors.At(source, where, $"offset {offset} lies inside the header or section table (sections start at {firstSectionByte})");
        if (offset > (ulong)fileLength || length > (ulong)fileLength - offset)
            throw EmnErrors.At(source, where, $"offset {offset} + length {length} exceeds the file length {fileLength}");
        if (kind == EmnSectionKind.Weights && offset % EmnFormat.WeightsAlignment != 0)
            throw EmnErrors.At(source, where, $"offset {offset} is not a multiple of {EmnFormat.WeightsAlignment}");
        return new EmnSection(kind, (int)offset, (int)length, crc);
    }

    private static void CheckRequired(Dictionary<EmnSectionKind, EmnSection> sections, string source)
    {
        for (EmnSectionKind kind = EmnSectionKind.Metadata; kind <= EmnSectionKindExtensions.Last; kind++)
        {
            if (kind.IsRequired() && !sections.ContainsKey(kind))
                throw EmnErrors.At(source, "section table", $"the required {kind.DisplayName()} section is missing");
        }
    }

    private static void CheckNoOverlap(IEnumerable<EmnSection> sections, string source)
    {
        EmnSection[] sorted = [.. sections.OrderBy(s => s.Offset).ThenBy(s => s.Length)];
        for (int i = 1; i < sorted.Length; i++)
        {
            if (sorted[i - 1].End > sorted[i].Offset)
                throw EmnErrors.At(source, "section table",
                    $"{sorted[i - 1].Kind.DisplayName()} section (bytes {sorted[i - 1].Offset}..{sorted[i - 1].End - 1}) overlaps {sorted[i].Kind.DisplayName()} section (starting at {sorted[i].Offset})");
        }
    }

    private static void VerifyChecksum(ReadOnlySpan<byte> file, EmnSection section, string source)
    {
        uint actual = EmnChecksum.Compute(file.Slice(section.Offset, section.Length));
        if (actual != section.Crc)
            throw EmnErrors.At(source, $"{section.Kind.DisplayName()} section",
                $"CRC32C of {section.Length} bytes at offset {section.Offset} is {EmnErrors.Hex(actual)}, stored {EmnErrors.Hex(section.Crc)} (corrupt file)");
    }

    private static string EntryName(int index, EmnSectionKind kind) =>
        $"section table entry {index} ({kind.DisplayName()})";

    private static uint ReadUInt32(ReadOnlySpan<byte> bytes, int offset) =>
        BinaryPrimitives.ReadUInt32LittleEndian(bytes[offset..]);
}
