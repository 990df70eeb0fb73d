using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace EdgeMobileNet.Format.Io;

/// <summary>Little-endian writes into a growing buffer: the counterpart of <see cref="BinaryCursor"/>.</summary>
internal sealed class BinaryBuilder
{
    private readonly ArrayBufferWriter<byte> _buffer = new();

    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

    public int Length => _buffer.WrittenCount;

    public void WriteByte(byte value) => Reserve(1)[0] = value;

    public void WriteUInt16(ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Reserve(2), value);

    public void WriteInt32(int value) => BinaryPrimitives.WriteInt32LittleEndian(Reserve(4), value);

    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Reserve(4), value);

    public void WriteUInt64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Reserve(8), value);

    public void WriteSingle(float value) => BinaryPrimitives.WriteSingleLittleEndian(Reserve(4), value);

    public void WriteCount(int count) => WriteUInt32((uint)count);

    /// <summary>Writes u32 count, then the values.</summary>
    public void WriteInt32List(IReadOnlyList<int> values)
    {
        WriteCount(values.Count);
        foreach (int value in values) WriteInt32(value);
    }

    /// <summary>Writes u32 UTF-8 byte length, then the bytes. The string must be well-formed (validated).</summary>
    public void WriteString(string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        WriteCount(length);
        Encoding.UTF8.GetBytes(value, Reserve(length));
    }

    private Span<byte> Reserve(int count)
    {
        Span<byte> span = _buffer.GetSpan(count)[..count];
        _buffer.Advance(count);
        return span;
    }
}
