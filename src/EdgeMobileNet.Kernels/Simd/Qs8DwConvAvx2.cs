using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeMobileNet.Kernels.Dispatch;
using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Kernels.Simd;

/// <summary>
/// int8 depthwise convolution on AVX2 (depth multiplier 1, any window), 16 channels per step, taps taken in pairs:
/// the two taps' inputs are sign-extended to int16 and interleaved (VPUNPCKLWD/VPUNPCKHWD), so one VPMADDWD against
/// interleaved weight pairs adds both taps' products for 8 channels (exact: int8 x int8 products and their pair
/// sums fit int32). An odd last tap pairs with a zero weight. The interleave puts channels 0-3 and 8-11 in the low
/// accumulator and 4-7 and 12-15 in the high one; bias and requantization parameters are packed in that order, and
/// VPACKSSDW of the two requantized accumulators restores channel order for the store.
/// Padding and the input zero point work as in <see cref="Qs8DwConv{TOps, TAcc, TProduct}"/> (zero-point row,
/// bias - zp * sum of taps), which this kernel replaces on AVX2: its per-tap widening multiply did twice the work.
/// </summary>
public sealed unsafe class Qs8DwConvAvx2 : Qs8ConvolutionKernel
{
    private const int NC = 16;
    private readonly AlignedBuffer<short> _weights; // [channel groups][tap pairs][low 16 x int16, high 16 x int16]
    private readonly AlignedBuffer<int> _bias;    // [channel groups][low 8, high 8] in accumulator lane order
    private readonly sbyte[] _padding;
    private readonly Qs8ChannelParams _requant;
    private readonly int _taps, _pairs, _groups;
    // 3x3 undilated windows over whole channel groups (and a last half group) sweep each row's interior output columns [_x0, _x1) one
    // group at a time: no per-pixel window gathering, and the group's requantization parameters loaded once per
    // row; _paddingRow is an input row of zero points.
    private readonly bool _sweep;
    private readonly Qs8RoundingKind _rounding; // the shortest exact output rounding for these parameters
    private readonly int _x0, _x1;
    private readonly sbyte[] _paddingRow = [];

    public static bool IsSupported => Avx2.IsSupported;

    /// <summary>Channel of accumulator lane <paramref name="lane"/> (0-7 low, 8-15 high) within a group of 16.</summary>
    private static int ChannelOfLane(int lane) => lane < 8 ? lane % 4 + lane / 4 * 8 : 4 + (lane - 8) % 4 + (lane - 8) / 4 * 8;

    public Qs8DwConvAvx2(in ConvGeometry g, int inputZeroPoint, Qs8OutputParams outputParams, ReadOnlySpan<sbyte> filter,
        ReadOnlySpan<int> bias)
        : base(g, $"Qs8DwConv{g.KernelH}x{g.KernelW}_{NC}c_TapPairs_Avx2")
    {
        DwWindow.CheckQs8(g, outputParams, filter.Length, bias.Length);
        _taps = g.KernelH * g.KernelW;
        _pairs = (_taps + 1) / 2;
        _groups = (g.OutC + NC - 1) / NC;
        _weights = new AlignedBuffer<short>(_groups * _pairs * 2 * NC);
        _bias = new AlignedBuffer<int>(_groups * NC);
        Span<short> packedWeights = _weights.Span;
        Span<int> packedBias = _bias.Span;
        var channelOfEntry = new int[_groups * NC];
        for (int group = 0; group < _groups; group++)
        for (int lane = 0; lane < NC; lane++)
        {
            int c = group * NC + ChannelOfLane(lane);
            channelOfEntry[group * NC + lane] = Math.Min(c, g.OutC - 1);
            if (c >= g.OutC) continue;
            int sum = 0;
            for (int t = 0; t < _taps; t++)
            {
                sbyte w = filter[t * g.OutC + c];
                // Pair t/2, accumulator half lane/8, int32 lane lane%8, int16 element t%2.
                packedWeights[((group * _pairs + t / 2) * 2 + lane / 8) * NC + lane % 8 * 2 + t % 2] = w;
                sum += w;
            }
            packedBias[group * NC + lane] = unchecked((bias.IsEmpty ? 0 : bias[c]) - inputZeroPoint * sum);
        }
        _padding = GC.AllocateArray<sbyte>(_groups * NC, pinned: true);
        _padding.AsSpan().Fill((sbyte)inputZeroPoint);
        _requant = new Qs8ChannelParams(outputParams, g.OutC, channelOfEntry);
        _rounding = Qs8RequantizeRight8.Choose(_requant, packedBias, _taps);
        // Measured faster at every MobileNet shape: 112x112x32 2.6x, 56x56x128 1.6x, 7x7x1024 1.2x.
        _sweep = DwWindow.IsUndilated3x3(g) && g.OutC % 8 == 0;
        if (_sweep)
        {
            (_x0, _x1) = DwWindow.InteriorColumns(g);
            _paddingRow = GC.AllocateArray<sbyte>(g.InW * g.InC, pinned: true);
            _paddingRow.AsSpan().Fill((sbyte)inputZeroPoint);
        }
    }

    [SkipLocalsInit]
    public override void Run(ReadOnlySpan<sbyte> input, Span<sbyte> output, int firstRow, int rowCount)
    {
        CheckRun(input.Length, output.Length, firstRow, rowCount);
        var g = Geometry;
        // One extra slot: an odd last tap pairs with itself (its partner weight is zero).
        byte** taps = stackalloc byte*[_pairs * 2];
        sbyte* scratch = stackalloc sbyte[_pairs * 2 * 8];
        fixed (sbyte* inp = input)
        fixed (sbyte* outp = output)
        {
            byte* padding = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_padding));
            for (int row = firstRow; row < firstRow + rowCount; row++)
            {
                switch (_rounding)
                {
                    case Qs8RoundingKind.RightShiftClamped: Row<Qs8RequantizeRightClamped8>(inp, outp, row, padding, taps, scratch); break;
                    case Qs8RoundingKind.RightShift: Row<Qs8RequantizeRight8>(inp, outp, row, padding, taps, scratch); break;
                    default: Row<Qs8Requantize8>(inp, outp, row, padding, taps, scratch); break;
                }
            }
        }
    }

    /// <summary>
    /// One output row: the interior columns in one sweep where the window allows, the others pixel by pixel; both with
    /// the row's rounding (the border pixels of a 14x14 layer, 1 in 7, took 23 % of its time with the general one).
    /// </summary>
    private void Row<TRound>(sbyte* input, sbyte* output, int row, byte* padding, byte** taps, sbyte* scratch)
        where TRound : struct, IQs8Rounding8<TRound>
    {
        var g = Geometry;
        int b = row / g.OutH, oy = row - b * g.OutH;
        int x0 = _sweep ? _x0 : g.OutW, x1 = _sweep ? _x1 : g.OutW;
        for (int ox = 0; ox < g.OutW; ox++)
        {
            if (ox == x0)
            {
                if (x0 < x1) SweepRow<TRound>(input, output + (long)row * g.OutW * g.OutC, b, oy);
                ox = x1; // interior columns done
                if (ox == g.OutW) break;
            }
            DwWindow.Fill(g, (byte*)input, 1, padding, b, oy, ox, taps);
            if (_taps % 2 == 1) taps[_taps] = taps[_taps - 1];
            Pixel<TRound>((sbyte**)taps, output + ((long)row * g.OutW + ox) * g.OutC, scratch);
        }
    }

    /// <summary>
    /// Output columns [_x0, _x1) of one row of a 3x3 undilated window, one channel group at a time across the row:
    /// the nine taps are the three input rows' three neighbouring pixels, paired (0,1) (2,3) (4,5) (6,7) (8,8).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SweepRow<TRound>(sbyte* input, sbyte* output, int b, int oy) where TRound : struct, IQs8Rounding8<TRound>
    {
        var g = Geometry;
        int channels = g.OutC, x0 = _x0, x1 = _x1;
        short* weights = _weights.Pointer;
        int* bias = _bias.Pointer;
        sbyte* paddingRow = (sbyte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_paddingRow));
        DwWindow.SweepRows(g, input, paddingRow, b, oy, x0, out sbyte* r0, out sbyte* r1, out sbyte* r2);
        var zp = Vector256.Create((short)_requant.ZeroPoint);
        var min = Vector128.Create((sbyte)_requant.Min);
        var max = Vector128.Create((sbyte)_requant.Max);
        nint step = (nint)g.StrideW * channels, c1 = channels, c2 = 2 * channels;
        int whole = channels / NC * NC;
        for (int c = 0; c < whole; c += NC)
        {
            short* w = weights + c * _pairs * 2;
            var biasLow = Avx.LoadVector256(bias + c);
            var biasHigh = Avx.LoadVector256(bias + c + 8);
            var requantLow = TRound.Load(_requant, c);
            var requantHigh = TRound.Load(_requant, c + 8);
            sbyte* p0 = r0 + c, p1 = r1 + c, p2 = r2 + c, o = output + (long)x0 * channels + c;
            for (int ox = x0; ox < x1; ox++, p0 += step, p1 += step, p2 += step, o += channels)
            {
                var (low, high) = (biasLow, biasHigh);
                PairStep(ref low, ref high, p0, p0 + c1, w);
                PairStep(ref low, ref high, p0 + c2, p1, w + 2 * NC);
                PairStep(ref low, ref high, p1 + c1, p1 + c2, w + 4 * NC);
                PairStep(ref low, ref high, p2, p2 + c1, w + 6 * NC);
                PairStep(ref low, ref high, p2 + c2, p2 + c2, w + 8 * NC);
                Unsafe.WriteUnaligned(o, Qs8Rounding.OnePixel16(requantLow, requantHigh, low, high, zp, min, max));
            }
        }
        if (whole == channels) return;
        // A last half group of 8 channels (24, 40, ... channel layers): the 128-bit step over the same taps.
        sbyte** taps = stackalloc sbyte*[10];
        sbyte* q0 = r0 + whole, q1 = r1 + whole, q2 = r2 + whole, out8 = output + (long)x0 * channels + whole;
        for (int ox = x0; ox < x1; ox++, q0 += step, q1 += step, q2 += step, out8 += channels)
        {
            taps[0] = q0; taps[1] = q0 + c1; taps[2] = q0 + c2;
            taps[3] = q1; taps[4] = q1 + c1; taps[5] = q1 + c2;
            taps[6] = q2; taps[7] = q2 + c1; taps[8] = q2 + c2; taps[9] = q2 + c2;
            Unsafe.WriteUnaligned(out8, HalfGroup(taps, 0, 0, _pairs, whole / NC, 0));
        }
    }

    /// <summary>Adds taps a and b (16 channels each) times their interleaved weight pairs at w to the two accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PairStep(ref Vector256<int> low, ref Vector256<int> high, sbyte* a, sbyte* b, short* w)
    {
        var x = Avx2.ConvertToVector256Int16(a);
        var y = Avx2.ConvertToVector256Int16(b);
        low = Avx2.Add(low, Avx2.MultiplyAddAdjacent(Avx2.UnpackLow(x, y), Avx.LoadVector256(w)));
        high = Avx2.Add(high, Avx2.MultiplyAddAdjacent(Avx2.UnpackHigh(x, y), Avx.LoadVector256(w + NC)));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Pixel<TRound>(sbyte** taps, sbyte* output, sbyte* scratch) where TRound : struct, IQs8Rounding8<TRound>
    {
        int channels = Geometry.OutC, pairs = _pairs;
        short* weights = _weights.Pointer;
        int* bias = _bias.Pointer;
        var zp = Vector256.Create((short)_requant.ZeroPoint);
        var min = Vector128.Create((sbyte)_requant.Min);
        var max = Vector128.Create((sbyte)_requant.Max);
        int c = 0;
        for (; c + NC <= channels; c += NC)
        {
            var (low, high) = Accumulate(taps, c, weights + c * pairs * 2, bias + c, pairs);
            Unsafe.WriteUnaligned(output + c, Qs8Rounding.OnePixel16(TRound.Load(_requant, c), TRound.Load(_requant, c + 8), low, high, zp, min, max));
        }
        if (c == channels) return;
        // The last partial group, 8 channels at a time: in place while 8 remain, then (fewer than 8) from inputs
        // copied into zero-padded scratch, so no load passes a row's end.
        int group = c / NC, rest = channels - c;
        if (rest >= 8)
        {
            Unsafe.WriteUnaligned(output + c, HalfGroup(taps, c, 0, pairs, group, 0));
            c += 8;
            rest -= 8;
        }
        if (rest == 0) return;
        for (int t = 0; t < 2 * pairs; t++)
        {
            Unsafe.WriteUnaligned(scratch + t * 8, 0L);
            for (int j = 0; j < rest; j++) scratch[t * 8 + j] = taps[t][c + j];
        }
        long bytes = HalfGroup(null, (nint)scratch, 8, pairs, group, c % NC / 8);
        for (int j = 0; j < rest; j++) output[c + j] = (sbyte)(bytes >> (8 * j));
    }

    /// <summary>
    /// Eight channels (half <paramref name="half"/> of channel group <paramref name="group"/>) with 128-bit steps, as
    /// eight int8 bytes: the accumulator lanes of those channels are the lower or upper 128 bits of the group's.
    /// Tap t's 8 input bytes at taps[t] + offset, or (taps null) at offset + t * tapStride.
    /// </summary>
    private long HalfGroup(sbyte** taps, nint offset, int tapStride, int pairs, int group, int half)
    {
        short* w = _weights.Pointer + group * pairs * 2 * NC + half * 8;
        int* bias = _bias.Pointer + group * NC + half * 4;
        var low = Sse2.LoadVector128(bias);
        var high = Sse2.LoadVector128(bias + 8);
        for (int p = 0; p < pairs; p++, w += 2 * NC)
        {
            sbyte* a = taps is null ? (sbyte*)offset + 2 * p * tapStride : taps[2 * p] + offset;
            sbyte* b = taps is null ? a + tapStride : taps[2 * p + 1] + offset;
            var x = Sse41.ConvertToVector128Int16(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(a)).AsSByte());
            var y = Sse41.ConvertToVector128Int16(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(b)).AsSByte());
            low = Sse2.Add(low, Sse2.MultiplyAddAdjacent(Sse2.UnpackLow(x, y), Sse2.LoadVector128(w)));
            high = Sse2.Add(high, Sse2.MultiplyAddAdjacent(Sse2.UnpackHigh(x, y), Sse2.LoadVector128(w + NC)));
        }
        int entry = group * NC + half * 4;
        var zp = Vector128.Create(_requant.ZeroPoint);
        var min = Vector128.Create(_requant.Min);
        var max = Vector128.Create(_requant.Max);
        var words = Sse2.PackSignedSaturate(Qs8Requantizer.Four(low, _requant, entry, zp, min, max),
            Qs8Requantizer.Four(high, _requant, entry + 8, zp, min, max));
        return Sse2.PackSignedSaturate(words, words).AsInt64().ToScalar();
    }

    /// <summary>Sums of 16 channels over all taps, tap t's input at taps[t] + offset.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<int> Low, Vector256<int> High) Accumulate(sbyte** taps, nint offset, short* w, int* bias, int pairs)
    {
        var low = Avx.LoadVector256(bias);
        var high = Avx.LoadVector256(bias + 8);
        for (int p = 0; p < pairs; p++, w += 2 * NC) PairStep(ref low, ref high, taps[2 * p] + offset, taps[2 * p + 1] + offset, w);
        return (low, high);
    }
}
