using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

namespace EdgeMobileNet.Format.Io;

/// <summary>
/// Bounded little-endian reads over one section of an .emn file. Every read checks the bytes left
/// and every failure is a <see cref="ModelFormatException"/> naming the source, the record being read
/// (or the section), the field and its file offset.
/// </summary>
internal ref struct BinaryCursor
{
    private readonly ReadOnlySpan<byte> _bytes;
    private readonly long _fileOffset;
    private readonly string _source;
    private readonly string _section;
    private int _position;

    /// <param name="bytes">The section's bytes.</param>
    /// <param name="fileOffset">File offset of <paramref name="bytes"/>[0], for messages.</param>
    /// <param name="source">File name for messages.</param>
    /// <param name="section">Section name for messages ("tensors").</param>
    public BinaryCursor(ReadOnlySpan<byte> bytes, long fileOffset, string source, string section)
    {
        _bytes = bytes;
        _fileOffset = fileOffset;
        _source = source;
        _section = section;
    }

    /// <summary>The record being read ("tensor 12 'conv1/weights'"), or null: the location in messages.</summary>
    public string? Record { get; set; }

    public readonly int Remaining => _bytes.Length - _position;

    public readonly long FileOffset => _fileOffset + _position;

    public byte ReadByte(string field) => Take(1, field)[0];

    public ushort ReadUInt16(string field) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, field));

    public int ReadInt32(string field) => BinaryPrimitives.ReadInt32LittleEndian(Take(4, field));

    public uint ReadUInt32(string field) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, field));

    public ulong ReadUInt64(string field) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, field));

    public float ReadSingle(string field) => BinaryPrimitives.ReadSingleLittleEndian(Take(4, field));

    /// <summary>Reads a byte that must be zero.</summary>
    public void ReadReservedByte()
    {
        long at = FileOffset;
        byte value = ReadByte("reserved byte");
        if (value != 0) throw Error($"reserved byte at file offset {at} is {value}, must be 0");
    }

    /// <summary>
    /// Reads a u32 element count, checking it against <paramref name="max"/> and against the bytes left:
    /// <paramref name="minBytesEach"/> is the smallest encoding of one element, so a hostile count can
    /// never cause an allocation larger than the section could hold.
    /// </summary>
    public int ReadCount(string field, int max, int minBytesEach)
    {
        long at = FileOffset;
        uint count = ReadUInt32(field);
        if (count > (uint)max)
            throw Error($"{field} {count} at file offset {at} exceeds the limit of {max}");
        long needed = (long)count * minBytesEach;
        if (needed > Remaining)
            throw Error($"{field} {count} at file offset {at} needs at least {needed} bytes, only {Remaining} left in the {_section} section");
        return (int)count;
    }

    public int[] ReadInt32Array(int count, string field)
    {
        ReadOnlySpan<byte> bytes = Take((long)count * sizeof(int), field);
        var values = new int[count];
        for (int i = 0; i < values.Length; i++)
            values[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes[(i * sizeof(int))..]);
        return values;
    }

    public float[] ReadSingleArray(int count, string field)
    {
        ReadOnlySpan<byte> bytes = Take((long)count * sizeof(float), field);
        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * sizeof(float))..]);
        return values;
    }

    /// <summary>Reads a string: u32 byte length, then that many bytes of well-formed UTF-8.</summary>
    public string ReadString(string field, int maxBytes)
    {
        long at = FileOffset;
        uint length = ReadUInt32(field);
        if (length > (uint)maxBytes)
            throw Error($"{field} at file offset {at}: length {length} exceeds the limit of {maxBytes} bytes");
        ReadOnlySpan<byte> bytes = Take(length, field);
        if (!Utf8.IsValid(bytes))
            throw Error($"{field} at file offset {at} is not valid UTF-8");
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>Throws unless the whole section has been read.</summary>
    public readonly void ExpectEnd()
    {
        if (Remaining != 0)
            throw EmnErrors.At(_source, $"{_section} section",
                $"{Remaining} unexpected bytes at the end (file offset {FileOffset})");
    }

    public readonly ModelFormatException Error(string problem) =>
        EmnErrors.At(_source, Record ?? $"{_section} section", problem);

    private ReadOnlySpan<byte> Take(long count, string field)
    {
        if (count > Remaining)
            throw Error($"{field} at file offset {FileOffset}: needs {count} bytes, only {Remaining} left in the {_section} section");
        ReadOnlySpan<byte> slice = _bytes.Slice(_position, (int)count);
        _position += (int)count;
        return slice;
    }
}
