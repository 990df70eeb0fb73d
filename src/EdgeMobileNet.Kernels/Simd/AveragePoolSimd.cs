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
        fixed (float* inp = input)
        fixed (float* outp = output)
            Pool<float, float, F32Step>(g, inp, outp, new F32Step(outputMin, outputMax));
    }

    /// <summary>
    /// The global average (mean over height and width) as one pooling window over the whole plane with no clamp:
    /// the same per-channel sums in the same order and the same division as <see cref="F32Reference.GlobalAveragePool"/>.
    /// </summary>
    public static void F32Global(int batch, int height, int width, int channels, ReadOnlySpan<float> input, Span<float> output)
    {
        ReferenceChecks.GlobalPool(batch, height, width, channels, input.Length, output.Length);
        if (batch == 0 || channels == 0) return;
        var g = new ConvGeometry(batch, height, width, channels, 1, 1, channels, height, width, 1, 1, 1, 1, 0, 0, 1);
        F32(g, input, output, float.NegativeInfinity, float.PositiveInfinity);
    }

    public static void Qs8(in ConvGeometry g, int outputMin, int outputMax, ReadOnlySpan<sbyte> input, Span<sbyte> output)
    {
        Check(g, input.Length, output.Length);
        ReferenceChecks.Int8Range(outputMin, outputMax, nameof(outputMin));
        fixed (sbyte* inp = input)
        fixed (sbyte* outp = output)
            Pool<sbyte, int, Qs8Step>(g, inp, outp, new Qs8Step(outputMin, outputMax));
    }

    /// <summary>
    /// The int8 global mean as one pooling window over the whole plane, channels as the vector dimension: the
    /// reference walks each channel down the plane with the channel stride (V2 1.0-224's 7x7x1280 took 0.12-0.17 ms
    /// against fp32's 0.02). The same exact int32 sums and <see cref="Qs8Reference.GlobalAverage"/>.
    /// </summary>
    public static void Qs8Global(in Qs8MeanParams p, ReadOnlySpan<sbyte> input, Span<sbyte> output)
    {
        Qs8Reference.CheckGlobalAveragePool(p, input.Length, output.Length);
        if (p.Batch == 0 || p.Channels == 0) return;
        var g = new ConvGeometry(p.Batch, p.Height, p.Width, p.Channels, 1, 1, p.Channels, p.Height, p.Width, 1, 1, 1, 1, 0, 0, 1);
        fixed (sbyte* inp = input)
        fixed (sbyte* outp = output)
            Pool<sbyte, int, Qs8MeanStep>(g, inp, outp, new Qs8MeanStep(p));
    }

    /// <summary>The one pooling loop: per output pixel and block of channels, sum the valid taps' runs, then finish.</summary>
    private static void Pool<T, TSum, TStep>(in ConvGeometry g, T* input, T* output, TStep step)
        where T : unmanaged where TSum : unmanaged where TStep : struct, IPoolStep<T, TSum>
    {
        TSum* sums = stackalloc TSum[Block];
        long* taps = stackalloc long[g.KernelH * g.KernelW];
        for (long pixel = 0, pixels = (long)g.Batch * g.OutH * g.OutW; pixel < pixels; pixel++)
        {
            int count = Window(g, pixel, taps);
            T* o = output + pixel * g.OutC;
            for (int c0 = 0; c0 < g.OutC; c0 += Block)
            {
                int n = Math.Min(Block, g.OutC - c0);
                new Span<TSum>(sums, n).Clear();
                for (int t = 0; t < count; t++) TStep.Add(input + taps[t] + c0, sums, n);
                step.Finish(sums, n, count, o + c0);
            }
        }
    }

    /// <summary>The per-type part of <see cref="Pool"/>: add one tap's run of channels, turn sums into outputs.</summary>
    private interface IPoolStep<T, TSum> where T : unmanaged where TSum : unmanaged
    {
        static abstract void Add(T* x, TSum* sums, int n);
        void Finish(TSum* sums, int n, int count, T* output);
    }

    private readonly struct F32Step(float outputMin, float outputMax) : IPoolStep<float, float>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Add(float* x, float* sums, int n)
        {
            int c = 0;
            for (; c + 4 <= n; c += 4) (Vector128.Load(sums + c) + Vector128.Load(x + c)).Store(sums + c);
            for (; c < n; c++) sums[c] += x[c];
        }

        public void Finish(float* sums, int n, int count, float* output)
        {
            for (int c = 0; c < n; c++) output[c] = F32Reference.Clamp(sums[c] / count, outputMin, outputMax);
        }
    }

    private readonly struct Qs8Step(int outputMin, int outputMax) : IPoolStep<sbyte, int>
    {
        /// <summary>sums[0..n) += x[0..n), int8 sign-extended to int32, 16 at a time.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Add(sbyte* x, int* sums, int n)
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

        public void Finish(int* sums, int n, int count, sbyte* output)
        {
            for (int c = 0; c < n; c++)
                output[c] = (sbyte)Math.Clamp(Qs8Reference.RoundedAverage(sums[c], count), outputMin, outputMax);
        }
    }

    private readonly struct Qs8MeanStep(Qs8MeanParams p) : IPoolStep<sbyte, int>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Add(sbyte* x, int* sums, int n) => Qs8Step.Add(x, sums, n);

        public void Finish(int* sums, int n, int count, sbyte* output)
        {
            // Sum of q - zp is the sum of q less zp per value: exact, as |sum| <= 255 x count fits int32 (checked).
            for (int c = 0; c < n; c++)
                output[c] = Qs8Reference.GlobalAverage(p, sums[c], sums[c] - p.InputZeroPoint * count, count);
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

    private static void Check(in ConvGeometry g, int inputLength, int outputLength)
    {
        ReferenceChecks.PoolGeometry(g, nameof(g));
        ReferenceChecks.Length(inputLength, ReferenceChecks.InputElements(g), "input");
        ReferenceChecks.Length(outputLength, ReferenceChecks.OutputElements(g), "output");
    }
}
