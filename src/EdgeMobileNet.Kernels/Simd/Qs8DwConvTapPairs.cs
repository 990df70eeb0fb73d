using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using EdgeMobileNet.Kernels.Dispatch;
using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Kernels.Simd;

/// <summary>
/// int8 depthwise convolution (depth multiplier 1, any window) over int8 products, 16 channels per step and the taps
/// in pairs (<typeparamref name="TStep"/>): on AdvSimd SMULL, SMLAL (the second tap's 8 products added in int16),
/// SMULL2, SMLAL2 for the upper 8 channels, then SADDW/SADDW2 into four int32 accumulators: 32 multiply-adds in 8
/// instructions, where <see cref="Qs8DwConv{TOps, TAcc, TProduct}"/> (int16 weights) takes SXTL, MUL, SADDW, SADDW2
/// and a MOV per 8. As with <see cref="Qs8GemmC16{TStep}"/>, two products share an int16 lane, exact for weights in
/// [-127, 127] (<see cref="Covers"/>; a filter holding -128 keeps the int16 kernel). An odd window gets a last tap of
/// zero weights over the zero-point row, so every step is a pair. The input zero point is folded into the bias and
/// padding taps read a row of the zero point, as in the int16 kernel; the last partial step of channels reads copies
/// of its rows, zero-padded.
/// </summary>
public sealed unsafe class Qs8DwConvTapPairs<TStep> : Qs8ConvolutionKernel where TStep : struct, IQs8DwTapPairStep
{
    private const int Channels = 16;
    private readonly AlignedBuffer<sbyte> _weights; // [taps rounded up to pairs][channels padded to 16]
    private readonly AlignedBuffer<int> _bias;
    private readonly sbyte[] _padding;
    private readonly Qs8ChannelParams _requant;
    private readonly int _padded, _taps, _pairs;

    /// <summary>Depth multiplier 1 with every weight in [-127, 127].</summary>
    public static bool Covers(in ConvGeometry g, ReadOnlySpan<sbyte> filter) =>
        g.DepthMultiplier == 1 && g.InC == g.OutC && !filter.Contains(sbyte.MinValue);

    public Qs8DwConvTapPairs(in ConvGeometry g, int inputZeroPoint, Qs8OutputParams outputParams, ReadOnlySpan<sbyte> filter,
        ReadOnlySpan<int> bias)
        : base(g, $"Qs8DwConv{g.KernelH}x{g.KernelW}_{Channels}c_TapPairs_{TStep.Isa}")
    {
        DwWindow.CheckQs8(g, outputParams, filter.Length, bias.Length);
        if (!Covers(g, filter)) throw new ArgumentException($"{Name} computes depth multiplier 1 with weights in [-127, 127]");
        _taps = g.KernelH * g.KernelW;
        _pairs = (_taps + 1) / 2;
        _padded = (g.OutC + Channels - 1) / Channels * Channels;
        _weights = new AlignedBuffer<sbyte>(2 * _pairs * _padded); // the odd window's extra tap stays zero
        _bias = new AlignedBuffer<int>(_padded);
        DwWindow.PackQs8(g, filter, bias, inputZeroPoint, _padded, _weights.Span, _bias.Span);
        _padding = DwWindow.ZeroPointRow(_padded, inputZeroPoint);
        _requant = new Qs8ChannelParams(outputParams, g.OutC, _padded);
    }

    public override void Run(ReadOnlySpan<sbyte> input, Span<sbyte> output, int firstRow, int rowCount)
    {
        CheckRun(input.Length, output.Length, firstRow, rowCount);
        byte** taps = stackalloc byte*[2 * _pairs];
        sbyte* scratch = stackalloc sbyte[2 * _pairs * Channels];
        sbyte** copies = stackalloc sbyte*[2 * _pairs];
        fixed (sbyte* inp = input)
        fixed (sbyte* outp = output)
        {
            byte* padding = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_padding));
            taps[2 * _pairs - 1] = padding; // the extra tap of an odd window (overwritten by Fill for an even one)
            var pixels = new Pixels(this, scratch, copies);
            DwWindow.ForEachQs8Pixel(Geometry, inp, outp, padding, firstRow, rowCount, taps, ref pixels);
        }
    }

    private readonly struct Pixels(Qs8DwConvTapPairs<TStep> kernel, sbyte* scratch, sbyte** copies) : IQs8DwPixel
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Compute(sbyte** taps, sbyte* output) => kernel.Pixel(taps, output, scratch, copies);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Pixel(sbyte** taps, sbyte* output, sbyte* scratch, sbyte** copies)
    {
        int channels = Geometry.OutC, c = 0;
        var requant = _requant;
        var zp = Vector128.Create(requant.ZeroPoint);
        var min = Vector128.Create(requant.Min);
        var max = Vector128.Create(requant.Max);
        // Requantized straight from the four accumulators (a store of them for Row to reload cost more per 16 channels).
        for (; c + Channels <= channels; c += Channels)
        {
            Channels16(taps, c, out var a0, out var a1, out var a2, out var a3);
            Qs8Requantizer.StoreEight(a0, a1, requant, c, zp, min, max, output + c, 8);
            Qs8Requantizer.StoreEight(a2, a3, requant, c + 8, zp, min, max, output + c + 8, 8);
        }
        if (c < channels)
        {
            int rest = channels - c;
            DwWindow.CopyTailRows(taps, 2 * _pairs, c, rest, Channels, scratch, copies);
            Channels16(copies, c, out var a0, out var a1, out var a2, out var a3);
            Qs8Requantizer.StoreEight(a0, a1, requant, c, zp, min, max, output + c, Math.Min(rest, 8));
            if (rest > 8) Qs8Requantizer.StoreEight(a2, a3, requant, c + 8, zp, min, max, output + c + 8, rest - 8);
        }
    }

    /// <summary>Channels [c, c + 16) of one pixel (bias included), every pair of taps; tap t's values at taps[t] + c.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Channels16(sbyte** taps, int c, out Vector128<int> a0, out Vector128<int> a1, out Vector128<int> a2, out Vector128<int> a3)
    {
        int padded = _padded;
        int* bias = _bias.Pointer + c;
        a0 = Vector128.Load(bias);
        a1 = Vector128.Load(bias + 4);
        a2 = Vector128.Load(bias + 8);
        a3 = Vector128.Load(bias + 12);
        sbyte* w = _weights.Pointer + c;
        for (int p = 0; p < _pairs; p++, w += 2 * padded)
        {
            sbyte* x0 = taps[2 * p] + c, x1 = taps[2 * p + 1] + c;
            TStep.MultiplyAddPair(ref a0, ref a1, ref a2, ref a3,
                Vector64.Load(x0), Vector128.Load(x0), Vector64.Load(w), Vector128.Load(w),
                Vector64.Load(x1), Vector128.Load(x1), Vector64.Load(w + padded), Vector128.Load(w + padded));
        }
    }
}

/// <summary>The step of <see cref="Qs8DwConvTapPairs{TStep}"/>: two taps of 16 channels.</summary>
public interface IQs8DwTapPairStep
{
    /// <summary>The ISA suffix of the kernel's name.</summary>
    static abstract string Isa { get; }

    /// <summary>
    /// a0..a3 (channels 0-3, 4-7, 8-11, 12-15) plus x0[i] * w0[i] + x1[i] * w1[i], the two products summed in int16
    /// (wrapping as SMLAL does: exact for weights in [-127, 127]). The Vector64 arguments are the lower halves, loaded on
    /// their own (from the Q registers NativeAOT spent a MOV on each, see <see cref="IQs8Dot16.Dot16"/>).
    /// </summary>
    static abstract void MultiplyAddPair(ref Vector128<int> a0, ref Vector128<int> a1, ref Vector128<int> a2, ref Vector128<int> a3,
        Vector64<sbyte> x0Low, Vector128<sbyte> x0, Vector64<sbyte> w0Low, Vector128<sbyte> w0,
        Vector64<sbyte> x1Low, Vector128<sbyte> x1, Vector64<sbyte> w1Low, Vector128<sbyte> w1);
}

/// <summary>AdvSimd (Cortex-A53/A72, Pi 3/4): SMULL, SMLAL, SMULL2, SMLAL2, SADDW, SADDW2 (x2).</summary>
public readonly struct Qs8DwTapPairAdvSimd : IQs8DwTapPairStep
{
    public static string Isa => "AdvSimd";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MultiplyAddPair(ref Vector128<int> a0, ref Vector128<int> a1, ref Vector128<int> a2, ref Vector128<int> a3,
        Vector64<sbyte> x0Low, Vector128<sbyte> x0, Vector64<sbyte> w0Low, Vector128<sbyte> w0,
        Vector64<sbyte> x1Low, Vector128<sbyte> x1, Vector64<sbyte> w1Low, Vector128<sbyte> w1)
    {
        var low = AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLower(x0Low, w0Low), x1Low, w1Low);
        var high = AdvSimd.MultiplyWideningUpperAndAdd(AdvSimd.MultiplyWideningUpper(x0, w0), x1, w1);
        a0 = AdvSimd.AddWideningLower(a0, low.GetLower());
        a1 = AdvSimd.AddWideningUpper(a1, low);
        a2 = AdvSimd.AddWideningLower(a2, high.GetLower());
        a3 = AdvSimd.AddWideningUpper(a3, high);
    }
}

/// <summary>Portable Vector128, the same arithmetic: what the xunit tests run the kernel with on x64.</summary>
public readonly struct Qs8DwTapPairVector128 : IQs8DwTapPairStep
{
    public static string Isa => "Vector128";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MultiplyAddPair(ref Vector128<int> a0, ref Vector128<int> a1, ref Vector128<int> a2, ref Vector128<int> a3,
        Vector64<sbyte> x0Low, Vector128<sbyte> x0, Vector64<sbyte> w0Low, Vector128<sbyte> w0,
        Vector64<sbyte> x1Low, Vector128<sbyte> x1, Vector64<sbyte> w1Low, Vector128<sbyte> w1)
    {
        var (x0l, x0h) = Vector128.Widen(x0); // the halves come from the full vectors
        var (w0l, w0h) = Vector128.Widen(w0);
        var (x1l, x1h) = Vector128.Widen(x1);
        var (w1l, w1h) = Vector128.Widen(w1);
        var (s0, s1) = Vector128.Widen(x0l * w0l + x1l * w1l);
        var (s2, s3) = Vector128.Widen(x0h * w0h + x1h * w1h);
        a0 += s0;
        a1 += s1;
        a2 += s2;
        a3 += s3;
    }
}
