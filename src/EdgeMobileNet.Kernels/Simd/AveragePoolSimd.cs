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
        fixed (float* inp = input)
        fixed (float* outp = output)
        {
            for (int b = 0; b < g.Batch; b++)
            for (int oy = 0; oy < g.OutH; oy++)
            for (int ox = 0; ox < g.OutW; ox++)
            {
                float* o = outp + (((long)b * g.OutH + oy) * g.OutW + ox) * g.OutC;
                for (int c0 = 0; c0 < g.OutC; c0 += Block)
                {
                    int n = Math.Min(Block, g.OutC - c0);
                    new Span<float>(sums, n).Clear();
                    int count = 0;
                    for (int ky = 0; ky < g.KernelH; ky++)
                    {
                        int iy = oy * g.StrideH - g.PadTop + ky * g.DilationH;
                        if ((uint)iy >= (uint)g.InH) continue;
                        for (int kx = 0; kx < g.KernelW; kx++)
                        {
                            int ix = ox * g.StrideW - g.PadLeft + kx * g.DilationW;
                            if ((uint)ix >= (uint)g.InW) continue;
                            float* x = inp + (((long)b * g.InH + iy) * g.InW + ix) * g.InC + c0;
                            int c = 0;
                            for (; c + 4 <= n; c += 4) (Vector128.Load(sums + c) + Vector128.Load(x + c)).Store(sums + c);
                            for (; c < n; c++) sums[c] += x[c];
                            count++;
                        }
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
        fixed (sbyte* inp = input)
        fixed (sbyte* outp = output)
        {
            for (int b = 0; b < g.Batch; b++)
            for (int oy = 0; oy < g.OutH; oy++)
            for (int ox = 0; ox < g.OutW; ox++)
            {
                sbyte* o = outp + (((long)b * g.OutH + oy) * g.OutW + ox) * g.OutC;
                for (int c0 = 0; c0 < g.OutC; c0 += Block)
                {
                    int n = Math.Min(Block, g.OutC - c0);
                    new Span<int>(sums, n).Clear();
                    int count = 0;
                    for (int ky = 0; ky < g.KernelH; ky++)
                    {
                        int iy = oy * g.StrideH - g.PadTop + ky * g.DilationH;
                        if ((uint)iy >= (uint)g.InH) continue;
                        for (int kx = 0; kx < g.KernelW; kx++)
                        {
                            int ix = ox * g.StrideW - g.PadLeft + kx * g.DilationW;
                            if ((uint)ix >= (uint)g.InW) continue;
                            AddWidened(inp + (((long)b * g.InH + iy) * g.InW + ix) * g.InC + c0, sums, n);
                            count++;
                        }
                    }
                    for (int c = 0; c < n; c++)
                        o[c0 + c] = (sbyte)Math.Clamp(Qs8Reference.RoundedAverage(sums[c], count), outputMin, outputMax);
                }
            }
        }
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
