using System.Text;
using Google.FlatBuffers;

namespace EdgeMobileNet.Import.Tflite;

/// <summary>
/// Bounds-checked access to a FlatBuffer over the Google.FlatBuffers <see cref="ByteBuffer"/>: every offset, vtable
/// and vector is checked against the buffer before it is read, so a hostile file gives an
/// <see cref="ImportException"/>, never an out-of-range read. Vector lengths are bounded by the bytes they occupy,
/// so nothing allocates more than a small multiple of the file size.
/// </summary>
internal sealed class FlatBufferReader
{
    private readonly ByteBuffer _bb;

    public FlatBufferReader(byte[] bytes, string sourceName)
    {
        Bytes = bytes;
        SourceName = sourceName;
        _bb = new ByteBuffer(bytes);
    }

    public byte[] Bytes { get; }
    public string SourceName { get; }
    public int Length => Bytes.Length;

    public ImportException Malformed(string what) => new($"{SourceName}: malformed TFLite file: {what}");

    public void Need(long position, long size, string what)
    {
        if (position < 0 || size < 0 || position > Length || size > Length - position)
            throw Malformed($"{what} at byte {position} (+{size}) lies outside the {Length}-byte file");
    }

    public int Int(long pos, string what) { Need(pos, 4, what); return _bb.GetInt((int)pos); }
    public uint UInt(long pos, string what) { Need(pos, 4, what); return _bb.GetUint((int)pos); }
    public ushort UShort(long pos, string what) { Need(pos, 2, what); return _bb.GetUshort((int)pos); }
    public byte Byte(long pos, string what) { Need(pos, 1, what); return _bb.Get((int)pos); }
    public sbyte SByte(long pos, string what) { Need(pos, 1, what); return _bb.GetSbyte((int)pos); }
    public float Float(long pos, string what) { Need(pos, 4, what); return _bb.GetFloat((int)pos); }
    public long Long(long pos, string what) { Need(pos, 8, what); return _bb.GetLong((int)pos); }
    public ulong ULong(long pos, string what) { Need(pos, 8, what); return _bb.GetUlong((int)pos); }

    /// <summary>The position a uoffset at <paramref name="pos"/> points to.</summary>
    public long Follow(long pos, string what)
    {
        long target = pos + UInt(pos, what);
        Need(target, 0, what);
        return target;
    }

    /// <summary>The root table (uoffset at byte 0).</summary>
    public FbTable Root(string what) => Table(Follow(0, what), what);

    public FbTable Table(long pos, string what)
    {
        Need(pos, 4, what);
        long vtable = pos - _bb.GetInt((int)pos); // soffset: table position minus vtable position
        Need(vtable, 4, $"{what} vtable");
        int vtableSize = _bb.GetUshort((int)vtable);
        int tableSize = _bb.GetUshort((int)vtable + 2);
        if (vtableSize < 4 || (vtableSize & 1) != 0) throw Malformed($"{what}: vtable size {vtableSize}");
        Need(vtable, vtableSize, $"{what} vtable");
        Need(pos, Math.Max(tableSize, 4), what);
        return new FbTable(this, pos, vtable, vtableSize, tableSize, what);
    }
}

/// <summary>A checked view of one FlatBuffer table; fields are addressed by id (slot 4 + 2 * id of the vtable).</summary>
internal readonly struct FbTable(FlatBufferReader r, long pos, long vtable, int vtableSize, int tableSize, string what)
{
    public string What => what;

    private int FieldOffset(int id)
    {
        int slot = 4 + 2 * id;
        if (slot + 2 > vtableSize) return 0;
        int offset = r.UShort(vtable + slot, what);
        if (offset != 0 && offset >= tableSize)
            throw r.Malformed($"{what}: field {id} at offset {offset} is outside the {tableSize}-byte table");
        return offset;
    }

    public bool Has(int id) => FieldOffset(id) != 0;

    public int Int(int id, int defaultValue = 0) { int o = FieldOffset(id); return o == 0 ? defaultValue : r.Int(pos + o, what); }
    public uint UInt(int id, uint defaultValue = 0) { int o = FieldOffset(id); return o == 0 ? defaultValue : r.UInt(pos + o, what); }
    public byte Byte(int id, byte defaultValue = 0) { int o = FieldOffset(id); return o == 0 ? defaultValue : r.Byte(pos + o, what); }
    public sbyte SByte(int id, sbyte defaultValue = 0) { int o = FieldOffset(id); return o == 0 ? defaultValue : r.SByte(pos + o, what); }
    public bool Bool(int id, bool defaultValue = false) { int o = FieldOffset(id); return o == 0 ? defaultValue : r.Byte(pos + o, what) != 0; }
    public float Float(int id, float defaultValue = 0) { int o = FieldOffset(id); return o == 0 ? defaultValue : r.Float(pos + o, what); }
    public ulong ULong(int id, ulong defaultValue = 0) { int o = FieldOffset(id); return o == 0 ? defaultValue : r.ULong(pos + o, what); }

    public FbTable? Table(int id, string name)
    {
        int o = FieldOffset(id);
        if (o == 0) return null;
        return r.Table(r.Follow(pos + o, $"{what}.{name}"), $"{what}.{name}");
    }

    /// <summary>A vector field: element count and the position of element 0; null when absent.</summary>
    public FbVector? Vector(int id, int elementSize, string name)
    {
        int o = FieldOffset(id);
        if (o == 0) return null;
        string w = $"{what}.{name}";
        long start = r.Follow(pos + o, w);
        uint count = r.UInt(start, w);
        r.Need(start + 4, (long)count * elementSize, w); // bounds the count by the file size
        return new FbVector(r, start + 4, (int)count, elementSize, w);
    }

    public string? String(int id, string name)
    {
        var v = Vector(id, 1, name);
        if (v is not { } vec) return null;
        int n = Math.Min(vec.Count, 1024); // names are informational: keep them short
        return Encoding.UTF8.GetString(r.Bytes, (int)vec.Start, n);
    }
}

internal readonly struct FbVector(FlatBufferReader r, long start, int count, int elementSize, string what)
{
    public long Start => start;
    public int Count => count;
    public string What => what;

    private long At(int i)
    {
        if ((uint)i >= (uint)count) throw r.Malformed($"{what}: index {i} of {count}");
        return start + (long)i * elementSize;
    }

    public int Int(int i) => r.Int(At(i), what);
    public long Long(int i) => r.Long(At(i), what);
    public float Float(int i) => r.Float(At(i), what);
    public FbTable Table(int i) => r.Table(r.Follow(At(i), what), $"{what}[{i}]");
    public ReadOnlyMemory<byte> Bytes() => new(r.Bytes, (int)start, count * elementSize);

    public int[] Ints()
    {
        var a = new int[count];
        for (int i = 0; i < count; i++) a[i] = Int(i);
        return a;
    }
}
