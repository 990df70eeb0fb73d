using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EdgeMobileNet.Kernels.Reference;

namespace EdgeMobileNet.Kernels.Simd;

/// <summary>
/// Average pooling (NHWC, padding excluded from the count) with the channels as the vector dimension: per output
/// pixel, each valid tap adds one contiguous run of channels, instead of the reference's per-channel walk over the
/// window with the channel stride. Sums are taken in the reference's tap order (fp32: bit-identical results);
/// int8 sums are exact int32 and finish with the reference's <see cref="Qs8Reference.RoundedAverage"/>.
/// Portable Vector128 (SSE/AVX encodings on x64, NEON on ARM64): MobileNet pools once, over 7x7, so this is about
/// memory order, not ISA width.
/// </summary>
public static unsafe class AveragePoolSimd
{
    private const int Block = 256; // channels summed per pass, in a stack scratch

    public static void F32(in ConvGeometry g, ReadOnlySpan<float> input, Span<float> output, float outputMin, float outputMax)
    {
        Check(g, input.Length, output.Length);
        ReferenceChecks.Range(outputMin, outputMax);
        float* sums = stackalloc float[Block];
        long* taps = stackalloc long[g.KernelH * g.KernelW];
        fixed (float* inp = input)
        fixed (float* outp = output)
        {
            for (long pixel = 0, pixels = (long)g.Batch * g.OutH * g.OutW; pixel < pixels; pixel++)
            {
                int count = Window(g, pixel, taps);
                float* o = outp + pixel * g.OutC;
                for (int c0 = 0; c0 < g.OutC; c0 += Block)
                {
                    int n = Math.Min(Block, g.OutC - c0);
                    new Span<float>(sums, n).Clear();
                    for (int t = 0; t < count; t++)
                    {
                        float* x = inp + taps[t] + c0;
                        int c = 0;
                        for (; c + 4 <= n; c += 4) (Vector128.Load(sums + c) + Vector128.Load(x + c)).Store(sums + c);
                        for (; c < n; c++) sums[c] += x[c];
                    }
                    for (int c = 0; c < n; c++)
                    {
                        float average = sums[c] / count; // the reference's clamp, NaN passing through
                        o[c0 + c] = average < outputMin ? outputMin : average > outputMax ? outputMax : average;
                    }
                }
            }
        }
    }

    public static void Qs8(in ConvGeometry g, int outputMin, int outputMax, ReadOnlySpan<sbyte> input, Span<sbyte> output)
    {
        Check(g, input.Length, output.Length);
        ReferenceChecks.Int8Range(outputMin, outputMax, nameof(outputMin));
        int* sums = stackalloc int[Block];
        long* taps = stackalloc long[g.KernelH * g.KernelW];
        fixed (sbyte* inp = input)
        fixed (sbyte* outp = output)
        {
            for (long pixel = 0, pixels = (long)g.Batch * g.OutH * g.OutW; pixel < pixels; pixel++)
            {
                int count = Window(g, pixel, taps);
                sbyte* o = outp + pixel * g.OutC;
                for (int c0 = 0; c0 < g.OutC; c0 += Block)
                {
                    int n = Math.Min(Block, g.OutC - c0);
                    new Span<int>(sums, n).Clear();
                    for (int t = 0; t < count; t++) AddWidened(inp + taps[t] + c0, sums, n);
                    for (int c = 0; c < n; c++)
                        o[c0 + c] = (sbyte)Math.Clamp(Qs8Reference.RoundedAverage(sums[c], count), outputMin, outputMax);
                }
            }
        }
    }

    /// <summary>
    /// The element offsets of output pixel <paramref name="pixel"/>'s window taps inside the input, in the
    /// reference's (ky, kx) order; padding taps are left out (they count neither in the sum nor the divisor).
    /// </summary>
    private static int Window(in ConvGeometry g, long pixel, long* taps)
    {
        long plane = (long)g.OutH * g.OutW;
        int b = (int)(pixel / plane), r = (int)(pixel - b * plane), oy = r / g.OutW, ox = r - oy * g.OutW;
        int count = 0;
        for (int ky = 0; ky < g.KernelH; ky++)
        {
            int iy = oy * g.StrideH - g.PadTop + ky * g.DilationH;
            if ((uint)iy >= (uint)g.InH) continue;
            for (int kx = 0; kx < g.KernelW; kx++)
            {
                int ix = ox * g.StrideW - g.PadLeft + kx * g.DilationW;
                if ((uint)ix < (uint)g.InW) taps[count++] = (((long)b * g.InH + iy) * g.InW + ix) * g.InC;
            }
        }
        return count;
    }

    /// <summary>sums[0..n) += x[0..n), int8 sign-extended to int32, 16 at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddWidened(sbyte* x, int* sums, int n)
    {
        int c = 0;
        for (; c + 16 <= n; c += 16)
        {
            var (lo, hi) = Vector128.Widen(Vector128.Load(x + c));
            var (a, b) = Vector128.Widen(lo);
            var (d, e) = Vector128.Widen(hi);
            (Vector128.Load(sums + c) + a).Store(sums + c);
            (Vector128.Load(sums + c + 4) + b).Store(sums + c + 4);
            (Vector128.Load(sums + c + 8) + d).Store(sums + c + 8);
            (Vector128.Load(sums + c + 12) + e).Store(sums + c + 12);
        }
        for (; c < n; c++) sums[c] += x[c];
    }

    private static void Check(in ConvGeometry g, int inputLength, int outputLength)
    {
        ReferenceChecks.PoolGeometry(g, nameof(g));
        ReferenceChecks.Length(inputLength, ReferenceChecks.InputElements(g), "input");
        ReferenceChecks.Length(outputLength, ReferenceChecks.OutputElements(g), "output");
    }
}
