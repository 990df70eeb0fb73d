using System.Runtime.Intrinsics;
using EdgeMobileNet.Kernels.Simd;
using Xunit;

namespace EdgeMobileNet.Tests.Kernels;

/// <summary>
/// Every ops struct's by-lane members compute what their broadcast forms do, lane by lane: the kernels take the
/// by-lane path only where it is one instruction, but each struct must agree with the others on what it means.
/// The ARM structs run in the arm64 selftest (the GEMM conformance families on cortex-a72 / a76); here the x64 ones.
/// </summary>
public unsafe class KernelOpsLaneTests
{
    [Fact]
    public void F32MultiplyAddLaneIsMultiplyAddByTheBroadcastLane()
    {
        CheckF32<F32Vector128, Vector128<float>>(Vector128.IsHardwareAccelerated);
        CheckF32<F32Avx2, Vector256<float>>(SimdKernelSets.Avx2Supported);
        CheckF32<F32Avx512, Vector512<float>>(SimdKernelSets.Avx512Supported);
    }

    [Fact]
    public void Qs8DotLaneDot2LoadGroupsAndBroadcastPairAgreeWithTheWordsTheyStandFor()
    {
        CheckQs8<Qs8DotVector128, Vector128<int>>(Vector128.IsHardwareAccelerated);
        CheckQs8<Qs8DotAvx2, Vector256<int>>(SimdKernelSets.Avx2Supported);
        CheckQs8<Qs8DotAvx512, Vector512<int>>(SimdKernelSets.Avx512Supported);
    }

    private static void CheckF32<TOps, TV>(bool supported) where TOps : struct, IF32Ops<TV> where TV : struct
    {
        if (!supported) return; // this CPU cannot run the struct
        var r = new Random(7);
        float* acc = stackalloc float[16], a = stackalloc float[16], b = stackalloc float[16], got = stackalloc float[16], want = stackalloc float[16];
        for (int trial = 0; trial < 50; trial++)
        {
            for (int i = 0; i < 16; i++) { acc[i] = r.NextSingle() * 8 - 4; a[i] = r.NextSingle() * 8 - 4; b[i] = r.NextSingle() * 8 - 4; }
            for (byte lane = 0; lane < 4; lane++)
            {
                TOps.Store(got, Lane<TOps, TV>(TOps.Load(acc), TOps.Load(a), TOps.Load(b), lane));
                TOps.Store(want, TOps.MultiplyAdd(TOps.Load(acc), TOps.Load(a), TOps.Broadcast(b[lane])));
                for (int i = 0; i < TOps.Count; i++) Assert.Equal(want[i], got[i]);
            }
        }
    }

    private static TV Lane<TOps, TV>(TV acc, TV a, TV b, byte lane) where TOps : struct, IF32Ops<TV> where TV : struct => lane switch
    {
        0 => TOps.MultiplyAddLane(acc, a, b, 0),
        1 => TOps.MultiplyAddLane(acc, a, b, 1),
        2 => TOps.MultiplyAddLane(acc, a, b, 2),
        _ => TOps.MultiplyAddLane(acc, a, b, 3),
    };

    private static void CheckQs8<TOps, TV>(bool supported) where TOps : struct, IQs8Dot<TOps, TV> where TV : struct
    {
        if (!supported) return; // this CPU cannot run the struct
        var r = new Random(11);
        int* acc = stackalloc int[16], w = stackalloc int[16], got = stackalloc int[16], want = stackalloc int[16], loaded = stackalloc int[16];
        sbyte* groups = stackalloc sbyte[64];
        for (int trial = 0; trial < 50; trial++)
        {
            for (int i = 0; i < 16; i++) { acc[i] = r.Next(-100000, 100000); w[i] = r.Next(); }
            // Words as the packing writes them: int16 pairs (c2) or four bytes (c4).
            for (int i = 0; i < 64; i++) groups[i] = (sbyte)r.Next(-128, 128);
            var words = TOps.LoadGroups(groups);
            TOps.Store(loaded, words);
            for (int i = 0; i < TOps.Count; i++) Assert.Equal(Qs8Words.Word(groups + i * TOps.KGroup, TOps.KGroup), loaded[i]);
            TOps.BroadcastPair(groups, out var first, out var second);
            TOps.Store(got, first);
            TOps.Store(want, second);
            for (int i = 0; i < TOps.Count; i++)
            {
                Assert.Equal(Qs8Words.Word(groups, TOps.KGroup), got[i]);
                Assert.Equal(Qs8Words.Word(groups + TOps.KGroup, TOps.KGroup), want[i]);
            }
            for (byte lane = 0; lane < 4; lane++)
            {
                TOps.Store(got, DotLane<TOps, TV>(TOps.Load(acc), words, lane, TOps.Load(w)));
                TOps.Store(want, TOps.Dot(TOps.Load(acc), TOps.Broadcast(loaded[lane]), TOps.Load(w)));
                for (int i = 0; i < TOps.Count; i++) Assert.Equal(want[i], got[i]);
            }
            // Two steps fused are the two steps (the second with the last words of w as weights).
            TV w2 = TOps.Load(w + 16 - TOps.Count);
            TOps.Store(got, TOps.Dot2(TOps.Load(acc), first, TOps.Load(w), second, w2));
            TOps.Store(want, TOps.Dot(TOps.Dot(TOps.Load(acc), first, TOps.Load(w)), second, w2));
            for (int i = 0; i < TOps.Count; i++) Assert.Equal(want[i], got[i]);
        }
    }

    private static TV DotLane<TOps, TV>(TV acc, TV words, byte lane, TV w) where TOps : struct, IQs8Dot<TOps, TV> where TV : struct => lane switch
    {
        0 => TOps.DotLane(acc, words, 0, w),
        1 => TOps.DotLane(acc, words, 1, w),
        2 => TOps.DotLane(acc, words, 2, w),
        _ => TOps.DotLane(acc, words, 3, w),
    };
}
