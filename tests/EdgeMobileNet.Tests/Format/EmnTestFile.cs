using System.Buffers.Binary;

namespace EdgeMobileNet.Tests.Format;

/// <summary>
/// Byte-level access to an .emn file for tests, written from docs/model-format.md independently of the
/// product code: section lookup, field patching, and checksum repair with its own CRC-32C.
/// </summary>
internal sealed class EmnTestFile
{
    public const int HeaderSize = 64;
    public const int EntrySize = 24;
    public const int VersionOffset = 8;
    public const int SectionCountOffset = 20;
    public const int FileLengthOffset = 24;
    public const int HeaderCrcOffset = 60;

    public const uint Metadata = 1, Tensors = 2, Operators = 3, Graph = 4, InputContract = 5, Labels = 6, Weights = 7;

    private static readonly uint[] CrcTable = BuildCrcTable();

    public EmnTestFile(byte[] bytes) => Bytes = bytes;

    public byte[] Bytes { get; }

    public uint SectionCount => U32(SectionCountOffset);

    public static int EntryOffset(int index) => HeaderSize + index * EntrySize;

    /// <summary>File offset and length of the section of this kind (the file must be well-formed).</summary>
    public (int Offset, int Length) Section(uint kind)
    {
        for (int i = 0; i < SectionCount; i++)
        {
            int e = EntryOffset(i);
            if (U32(e) == kind) return ((int)U64(e + 8), (int)U64(e + 16));
        }
        throw new InvalidOperationException($"no section of kind {kind}");
    }

    public int EntryIndex(uint kind)
    {
        for (int i = 0; i < SectionCount; i++)
            if (U32(EntryOffset(i)) == kind) return i;
        throw new InvalidOperationException($"no section of kind {kind}");
    }

    public uint U32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes.AsSpan(offset));

    public ulong U64(int offset) => BinaryPrimitives.ReadUInt64LittleEndian(Bytes.AsSpan(offset));

    public void SetU32(int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(offset), value);

    public void SetU64(int offset, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Bytes.AsSpan(offset), value);

    /// <summary>
    /// Recomputes the checksum of every section whose table entry lies inside the file, then the header
    /// checksum, so a test can reach the checks behind the checksums. Garbage tables are left as they are.
    /// </summary>
    public void RepairChecksums()
    {
        if (Bytes.Length < HeaderSize) return;
        uint count = SectionCount;
        if (count > 64 || HeaderSize + count * EntrySize > Bytes.Length) return;
        for (int i = 0; i < count; i++)
        {
            int e = EntryOffset(i);
            ulong offset = U64(e + 8), length = U64(e + 16);
            if (offset <= (ulong)Bytes.Length && length <= (ulong)Bytes.Length - offset)
                SetU32(e + 4, Crc32C(Bytes.AsSpan((int)offset, (int)length)));
        }
        RepairHeaderChecksum();
    }

    public void RepairHeaderChecksum()
    {
        int tableLength = (int)SectionCount * EntrySize;
        byte[] covered = [.. Bytes.AsSpan(0, HeaderCrcOffset), .. Bytes.AsSpan(HeaderSize, tableLength)];
        SetU32(HeaderCrcOffset, Crc32C(covered));
    }

    /// <summary>Bitwise-table CRC-32C (Castagnoli), reflected polynomial 0x82F63B78.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc ^ 0xFFFFFFFF;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0x82F63B78 ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
