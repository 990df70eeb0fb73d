using System.Buffers;

namespace EdgeMobileNet.Format.Io;

/// <summary>
/// Exposes unmanaged memory (a memory-mapped view) as <see cref="Memory{T}"/> without copying. After
/// <see cref="Invalidate"/> every new access throws <see cref="ObjectDisposedException"/>.
/// </summary>
internal sealed unsafe class MappedMemoryManager : MemoryManager<byte>
{
    private readonly byte* _pointer;
    private readonly int _length;
    private volatile bool _invalid;

    public MappedMemoryManager(byte* pointer, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _pointer = pointer;
        _length = length;
    }

    /// <summary>Marks the memory as gone; called before the mapping is unmapped.</summary>
    public void Invalidate() => _invalid = true;

    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(_invalid, this);
        return new Span<byte>(_pointer, _length);
    }

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ObjectDisposedException.ThrowIf(_invalid, this);
        ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, _length);
        return new MemoryHandle(_pointer + elementIndex);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing) => Invalidate();
}
