using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace EdgeMobileNet.Kernels.Simd;

/// <summary>
/// Software prefetch of the next channel block's packed weights, one share per tile of the current block, so a layer's
/// weights stream in from memory while the block before computes: the hardware prefetchers only follow a block once it
/// is being read, and the first tile of every block would wait on memory. x64 only (.NET has no ARM prefetch intrinsic).
/// </summary>
internal static unsafe class WeightPrefetch
{
    private const int LineBytes = 64;

    /// <summary>Prefetches share <paramref name="share"/> of <paramref name="shares"/> of [block, block + bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Share(void* block, long bytes, int share, int shares)
    {
        if (!Sse.IsSupported || shares <= 0) return;
        long perShare = (bytes / LineBytes + shares - 1) / shares * LineBytes;
        byte* p = (byte*)block + share * perShare, end = (byte*)block + Math.Min((share + 1) * perShare, bytes);
        for (; p < end; p += LineBytes) Sse.Prefetch0(p);
    }
}
