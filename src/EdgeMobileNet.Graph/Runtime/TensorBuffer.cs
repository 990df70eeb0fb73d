using System.Runtime.InteropServices;

namespace EdgeMobileNet.Graph.Runtime;

/// <summary>
/// Where one tensor's bytes live while a session runs: in the activation arena or in pinned
/// constant memory. Typed views are spans over the same bytes, so taking one allocates nothing.
/// </summary>
public readonly unsafe struct TensorBuffer(byte* pointer, int byteLength)
{
    public byte* Pointer { get; } = pointer;
    public int ByteLength { get; } = byteLength;

    public Span<T> As<T>() where T : unmanaged => new(Pointer, ByteLength / sizeof(T));

    public ReadOnlySpan<T> AsReadOnly<T>() where T : unmanaged => new(Pointer, ByteLength / sizeof(T));

    public Span<byte> Bytes => new(Pointer, ByteLength);

    public static TensorBuffer Empty => default;

    public bool IsEmpty => ByteLength == 0;

    public static TensorBuffer Over(Span<byte> pinnedBytes) =>
        new((byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetReference(pinnedBytes)), pinnedBytes.Length);
}
