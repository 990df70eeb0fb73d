using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeMobileNet.Benchmarks;

/// <summary>
/// <c>peak</c>: this core's measured multiply-accumulate ceiling, for quoting the kernels' GMAC/s against it:
/// 12 independent register-only chains (enough to hide FMA latency; each step depends on its chain, so the
/// compiler cannot share one product between chains) of VFMADD231PS (8 fp32 MACs each) and of
/// VPMADDWD + VPADDD (16 int16 MACs each), of VPMADDUBSW + VPMADDWD by ones + VPADDD (32 u8 x s8 MACs into int32:
/// the step of EdgeMobileNet's and ONNX Runtime's AVX2 u8s8 GEMMs, so the ceiling of both), and of VPMADDUBSW + VPADDW
/// alone (32 MACs into saturating int16 sums, which no exact kernel can use: an upper bound only).
/// </summary>
public static class PeakThroughput
{
    private const int Iterations = 20_000_000;

    public static int Run()
    {
        if (!Avx2.IsSupported || !Fma.IsSupported)
        {
            Console.WriteLine("peak: needs AVX2 and FMA");
            return 0;
        }
        Report("fp32 FMA (VFMADD231PS ymm)", 12L * 8, Fp32Fma);
        Report("int16 VPMADDWD+VPADDD ymm", 12L * 16, Int16Madd);
        Report("u8s8 VPMADDUBSW+VPMADDWD+VPADDD", 12L * 32, U8S8MaddInt32);
        Report("u8s8 VPMADDUBSW+VPADDW (int16)", 12L * 32, U8S8Madd);
        return 0;
    }

    private static void Report(string what, long macsPerIteration, Func<int, int> kernel)
    {
        kernel(1000);
        double best = 0;
        for (int trial = 0; trial < 5; trial++)
        {
            long start = Stopwatch.GetTimestamp();
            kernel(Iterations);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            best = Math.Max(best, macsPerIteration * Iterations / seconds / 1e9);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what,-30} {best,7:F1} GMAC/s per core"));
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int Fp32Fma(int n)
    {
        var a = Vector256.Create(1.0001f);
        var b = Vector256.Create(0.9999f);
        Vector256<float> c0 = Vector256<float>.Zero, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < n; i++)
        {
            c0 = Fma.MultiplyAdd(a, b, c0); c1 = Fma.MultiplyAdd(a, b, c1); c2 = Fma.MultiplyAdd(a, b, c2);
            c3 = Fma.MultiplyAdd(a, b, c3); c4 = Fma.MultiplyAdd(a, b, c4); c5 = Fma.MultiplyAdd(a, b, c5);
            c6 = Fma.MultiplyAdd(a, b, c6); c7 = Fma.MultiplyAdd(a, b, c7); c8 = Fma.MultiplyAdd(a, b, c8);
            c9 = Fma.MultiplyAdd(a, b, c9); c10 = Fma.MultiplyAdd(a, b, c10); c11 = Fma.MultiplyAdd(a, b, c11);
        }
        var s = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
        return (int)s.ToScalar();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int Int16Madd(int n)
    {
        var b = Vector256.Create((short)-2);
        Vector256<int> c0 = Vector256<int>.Zero, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < n; i++)
        {
            c0 = Avx2.Add(c0, Avx2.MultiplyAddAdjacent(c0.AsInt16(), b)); c1 = Avx2.Add(c1, Avx2.MultiplyAddAdjacent(c1.AsInt16(), b));
            c2 = Avx2.Add(c2, Avx2.MultiplyAddAdjacent(c2.AsInt16(), b)); c3 = Avx2.Add(c3, Avx2.MultiplyAddAdjacent(c3.AsInt16(), b));
            c4 = Avx2.Add(c4, Avx2.MultiplyAddAdjacent(c4.AsInt16(), b)); c5 = Avx2.Add(c5, Avx2.MultiplyAddAdjacent(c5.AsInt16(), b));
            c6 = Avx2.Add(c6, Avx2.MultiplyAddAdjacent(c6.AsInt16(), b)); c7 = Avx2.Add(c7, Avx2.MultiplyAddAdjacent(c7.AsInt16(), b));
            c8 = Avx2.Add(c8, Avx2.MultiplyAddAdjacent(c8.AsInt16(), b)); c9 = Avx2.Add(c9, Avx2.MultiplyAddAdjacent(c9.AsInt16(), b));
            c10 = Avx2.Add(c10, Avx2.MultiplyAddAdjacent(c10.AsInt16(), b)); c11 = Avx2.Add(c11, Avx2.MultiplyAddAdjacent(c11.AsInt16(), b));
        }
        var s = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
        return s.ToScalar();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int U8S8MaddInt32(int n)
    {
        var b = Vector256.Create((sbyte)-2);
        var ones = Vector256.Create((short)1);
        Vector256<int> c0 = Vector256<int>.Zero, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < n; i++)
        {
            c0 = Step(c0, b, ones); c1 = Step(c1, b, ones); c2 = Step(c2, b, ones); c3 = Step(c3, b, ones);
            c4 = Step(c4, b, ones); c5 = Step(c5, b, ones); c6 = Step(c6, b, ones); c7 = Step(c7, b, ones);
            c8 = Step(c8, b, ones); c9 = Step(c9, b, ones); c10 = Step(c10, b, ones); c11 = Step(c11, b, ones);
        }
        var s = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
        return s.ToScalar();

        static Vector256<int> Step(Vector256<int> c, Vector256<sbyte> b, Vector256<short> ones) =>
            Avx2.Add(c, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(c.AsByte(), b), ones));
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int U8S8Madd(int n)
    {
        var b = Vector256.Create((sbyte)-2);
        Vector256<short> c0 = Vector256<short>.Zero, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < n; i++)
        {
            c0 = Avx2.Add(c0, Avx2.MultiplyAddAdjacent(c0.AsByte(), b)); c1 = Avx2.Add(c1, Avx2.MultiplyAddAdjacent(c1.AsByte(), b));
            c2 = Avx2.Add(c2, Avx2.MultiplyAddAdjacent(c2.AsByte(), b)); c3 = Avx2.Add(c3, Avx2.MultiplyAddAdjacent(c3.AsByte(), b));
            c4 = Avx2.Add(c4, Avx2.MultiplyAddAdjacent(c4.AsByte(), b)); c5 = Avx2.Add(c5, Avx2.MultiplyAddAdjacent(c5.AsByte(), b));
            c6 = Avx2.Add(c6, Avx2.MultiplyAddAdjacent(c6.AsByte(), b)); c7 = Avx2.Add(c7, Avx2.MultiplyAddAdjacent(c7.AsByte(), b));
            c8 = Avx2.Add(c8, Avx2.MultiplyAddAdjacent(c8.AsByte(), b)); c9 = Avx2.Add(c9, Avx2.MultiplyAddAdjacent(c9.AsByte(), b));
            c10 = Avx2.Add(c10, Avx2.MultiplyAddAdjacent(c10.AsByte(), b)); c11 = Avx2.Add(c11, Avx2.MultiplyAddAdjacent(c11.AsByte(), b));
        }
        var s = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
        return s.ToScalar();
    }
}
