using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using EdgeMobileNet.Kernels.Dispatch;
using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Kernels.Simd;

/// <summary>
/// int8 convolution (and fully connected layers) as a GEMM that multiplies the int8 bytes themselves, 16 window values
/// of one pixel and one output channel per step (<typeparamref name="TStep"/>): on AdvSimd SMULL (8 products
/// into int16), SMLAL2 (the other 8 added, the widening multiply-accumulate) and SADALP (adjacent int16 pairs into the
/// int32 lanes): 16 multiply-adds in 3 instructions, where the int16 kernel (<see cref="Qs8Igemm{TOps, TV}"/>, 4x8c2)
/// takes 6 per 16 and twice the multiplies. Two products share an int16 lane before SADALP, so the kernel is exact only
/// when none can reach 2^15: weights in [-127, 127] (TFLite's int8 weight range) bound each pair by
/// 2 x 128 x 127 = 32512. <see cref="Covers"/> checks the filter; a filter holding -128 keeps the int16 kernel.
/// The tile is 2 pixels x 8 output channels: 16 accumulators of 4 partial sums each, reduced once per tile
/// (<see cref="IQs8Dot16.Sums4"/>). Weights are packed per block of 8 output channels as [K/16 steps x 8 channels x 16
/// int8], the last step zero-padded; the input zero point is folded into the bias (bias - zp x sum(w)). A pointwise
/// layer reads its input rows where they are; any other window is staged first, a chunk of pixels' im2col rows at a
/// time (<see cref="Im2colRows.Write"/>, padding taps holding the zero point, so they add (zp - zp) x w = 0).
/// </summary>
public sealed unsafe class Qs8GemmC16<TStep> : Qs8ConvolutionKernel where TStep : struct, IQs8Dot16
{
    private const int MR = 2, NR = 8, KStep = 16;
    /// <summary>Input rows per chunk: they stay in a 32 KB L1 (Cortex-A72's) while every block's weights pass over them.</summary>
    private const int ChunkBytes = 16 * 1024;
    private readonly AlignedBuffer<sbyte> _weights;
    private readonly AlignedBuffer<int> _bias;
    private readonly Qs8ChannelParams _requant;
    private readonly int _k, _fullSteps, _tail, _blocks, _blockStride, _chunkPixels;
    private readonly bool _pointwise;
    private readonly sbyte _inputZeroPoint;
    private readonly (int From, int To) _inside; // output columns whose window rows lie inside the input's width

    /// <summary>The most window values (KernelH x KernelW x InC) a staged row holds: a chunk keeps at least one tile.</summary>
    public const int MaxDepth = ChunkBytes / MR;

    /// <summary>
    /// Convolutions of depth multiplier 1 with 8 to <see cref="MaxDepth"/> window values (fewer would fill less than half
    /// of a step) whose weights stay in [-127, 127].
    /// </summary>
    public static bool Covers(in ConvGeometry g, ReadOnlySpan<sbyte> filter) =>
        g.DepthMultiplier == 1 && (long)g.KernelH * g.KernelW * g.InC is >= 8 and <= MaxDepth && !filter.Contains(sbyte.MinValue);

    public Qs8GemmC16(in ConvGeometry g, int inputZeroPoint, Qs8OutputParams outputParams, ReadOnlySpan<sbyte> filter,
        ReadOnlySpan<int> bias)
        : base(g, $"{(g.IsPointwise ? "Qs8Gemm" : "Qs8Im2colGemm")}_{MR}x{NR}c{KStep}_{TStep.Isa}")
    {
        _k = g.KernelH * g.KernelW * g.InC;
        Qs8GemmTiles.CheckArguments(Name, g, _k, filter.Length, bias.Length, outputParams.Multipliers.Length);
        if (!Covers(g, filter))
            throw new ArgumentException($"{Name} computes convolutions of depth multiplier 1 with 8 to {MaxDepth} window values and weights in [-127, 127]");
        _pointwise = g.IsPointwise;
        _inputZeroPoint = (sbyte)inputZeroPoint;
        _inside = Im2colRows.InsideColumns(g);
        _fullSteps = _k / KStep;
        _tail = _k - _fullSteps * KStep;
        int steps = (_k + KStep - 1) / KStep;
        _blocks = (g.OutC + NR - 1) / NR;
        _blockStride = steps * NR * KStep;
        _weights = new AlignedBuffer<sbyte>(_blocks * _blockStride);
        _bias = new AlignedBuffer<int>(_blocks * NR);
        var packed = _weights.Span;
        var packedBias = _bias.Span;
        for (int oc = 0; oc < g.OutC; oc++)
        {
            var row = filter.Slice(oc * _k, _k);
            int block = oc / NR, column = oc % NR, sum = 0;
            for (int s = 0; s < steps; s++)
            {
                var values = row.Slice(s * KStep, Math.Min(KStep, _k - s * KStep));
                values.CopyTo(packed.Slice(block * _blockStride + (s * NR + column) * KStep)); // the rest stays zero
                foreach (sbyte w in values) sum += w;
            }
            packedBias[oc] = unchecked((bias.IsEmpty ? 0 : bias[oc]) - inputZeroPoint * sum);
        }
        _requant = new Qs8ChannelParams(outputParams, g.OutC, _blocks * NR);
        _chunkPixels = Math.Clamp(ChunkBytes / _k, MR, 1024) / MR * MR;
    }

    public override int ColumnBlocks => _blocks;

    public override int TilePixels => MR;

    public override bool StagesRows => !_pointwise;

    public override void Run(ReadOnlySpan<sbyte> input, Span<sbyte> output, int firstRow, int rowCount) =>
        RunRowsAsBlocks(input, output, firstRow, rowCount);

    [SkipLocalsInit]
    protected override void ComputeBlocks(ReadOnlySpan<sbyte> input, Span<sbyte> output, int p0, int p1, int nb0, int nb1)
    {
        // The last step's input bytes, copied so no load reads past a row (the last pixel's ends the buffer).
        sbyte* tailRows = stackalloc sbyte[MR * KStep];
        new Span<sbyte>(tailRows, MR * KStep).Clear();
        int outC = Geometry.OutC;
        sbyte* staged = stackalloc sbyte[_pointwise ? 0 : _chunkPixels * _k];
        fixed (sbyte* inp = input)
        fixed (sbyte* outp = output)
        {
            for (int c0 = p0; c0 < p1; c0 += _chunkPixels)
            {
                int pixels = Math.Min(_chunkPixels, p1 - c0);
                sbyte* rows = inp + (long)c0 * _k;
                if (!_pointwise)
                {
                    Im2colRows.Write(Geometry, inp, staged, _k, c0, pixels, _inside, new ByteCopy(_inputZeroPoint));
                    rows = staged;
                }
                for (int nb = nb0; nb < nb1; nb++)
                    Tiles(rows, pixels, nb, outp + (long)c0 * outC, tailRows);
            }
        }
    }

    /// <summary>Window values copied as they are; padding taps hold the input zero point.</summary>
    private readonly struct ByteCopy(sbyte zeroPoint) : IIm2colCopy<sbyte, sbyte>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Copy(sbyte* source, sbyte* target, int count) => Unsafe.CopyBlockUnaligned(target, source, (uint)count);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Pad(sbyte* target, int count) => Unsafe.InitBlockUnaligned(target, (byte)zeroPoint, (uint)count);
    }

    /// <summary>
    /// Output block <paramref name="nb"/> of <paramref name="pixels"/> pixels from <paramref name="input"/>, two at a
    /// time (a missing second pixel repeats the first, never stored), each pair requantized from its four sum vectors
    /// and stored. One call per chunk and block: a call per tile with the sums stored and reloaded by
    /// <see cref="Qs8Requantizer.Row"/> took about 258 instructions per tile outside the inner loop, this 133 (a pass of
    /// the inner loop is 81).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Tiles(sbyte* input, int pixels, int nb, sbyte* output, sbyte* tailRows)
    {
        int k = _k, outC = Geometry.OutC, oc0 = nb * NR, valid = Math.Min(NR, outC - oc0), tail = _tail;
        sbyte* weights = _weights.Pointer + (long)nb * _blockStride;
        int* bias = _bias.Pointer + oc0;
        var requant = _requant;
        var zp = Vector128.Create(requant.ZeroPoint);
        var min = Vector128.Create(requant.Min);
        var max = Vector128.Create(requant.Max);
        for (int p = 0; p < pixels; p += MR)
        {
            bool pair = p + 1 < pixels;
            sbyte* a0 = input + (long)p * k;
            sbyte* a1 = pair ? a0 + k : a0;
            // By hand, not a memmove: a call here made NativeAOT keep vectors live across it on the stack.
            for (int i = 0; i < tail; i++)
            {
                tailRows[i] = a0[_fullSteps * KStep + i];
                tailRows[KStep + i] = a1[_fullSteps * KStep + i];
            }
            Accumulate(a0, a1, weights, tailRows, out var s0, out var s1, out var s2, out var s3);
            var biasLow = Vector128.Load(bias);
            var biasHigh = Vector128.Load(bias + 4);
            Qs8Requantizer.StoreEight(s0 + biasLow, s1 + biasHigh, requant, oc0, zp, min, max, output + (long)p * outC + oc0, valid);
            if (pair) Qs8Requantizer.StoreEight(s2 + biasLow, s3 + biasHigh, requant, oc0, zp, min, max, output + (long)(p + 1) * outC + oc0, valid);
        }
    }

    /// <summary>
    /// The int32 sums (bias not included) of pixels a0 and a1 against one block's 8 output channels: s0, s1 channels
    /// 0-3 and 4-7 of a0, s2, s3 of a1; the last partial step reads the two rows' copies at <paramref name="tailRows"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Accumulate(sbyte* a0, sbyte* a1, sbyte* w, sbyte* tailRows,
        out Vector128<int> s0, out Vector128<int> s1, out Vector128<int> s2, out Vector128<int> s3)
    {
        Vector128<int> acc00 = default, acc01 = default, acc02 = default, acc03 = default;
        Vector128<int> acc04 = default, acc05 = default, acc06 = default, acc07 = default;
        Vector128<int> acc10 = default, acc11 = default, acc12 = default, acc13 = default;
        Vector128<int> acc14 = default, acc15 = default, acc16 = default, acc17 = default;
        int steps = _fullSteps;
        bool tailPending = _tail > 0;
        // The full steps, then (once) the tail step over the copied bytes: one body for both.
        while (true)
        {
            for (; steps > 0; steps--)
            {
                Vector64<sbyte> x0Low = Vector64.Load(a0), x1Low = Vector64.Load(a1);
                Vector128<sbyte> x0 = Vector128.Load(a0), x1 = Vector128.Load(a1);
                Column(ref acc00, ref acc10, x0Low, x0, x1Low, x1, w);
                Column(ref acc01, ref acc11, x0Low, x0, x1Low, x1, w + KStep);
                Column(ref acc02, ref acc12, x0Low, x0, x1Low, x1, w + 2 * KStep);
                Column(ref acc03, ref acc13, x0Low, x0, x1Low, x1, w + 3 * KStep);
                Column(ref acc04, ref acc14, x0Low, x0, x1Low, x1, w + 4 * KStep);
                Column(ref acc05, ref acc15, x0Low, x0, x1Low, x1, w + 5 * KStep);
                Column(ref acc06, ref acc16, x0Low, x0, x1Low, x1, w + 6 * KStep);
                Column(ref acc07, ref acc17, x0Low, x0, x1Low, x1, w + 7 * KStep);
                a0 += KStep; a1 += KStep; w += NR * KStep;
            }
            if (!tailPending) break;
            tailPending = false;
            a0 = tailRows;
            a1 = tailRows + KStep;
            steps = 1;
        }
        s0 = TStep.Sums4(acc00, acc01, acc02, acc03);
        s1 = TStep.Sums4(acc04, acc05, acc06, acc07);
        s2 = TStep.Sums4(acc10, acc11, acc12, acc13);
        s3 = TStep.Sums4(acc14, acc15, acc16, acc17);
    }

    /// <summary>One output channel's 16 weights at <paramref name="w"/> against both pixels' step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Column(ref Vector128<int> acc0, ref Vector128<int> acc1, Vector64<sbyte> x0Low, Vector128<sbyte> x0,
        Vector64<sbyte> x1Low, Vector128<sbyte> x1, sbyte* w)
    {
        Vector64<sbyte> wLow = Vector64.Load(w);
        Vector128<sbyte> weights = Vector128.Load(w);
        acc0 = TStep.Dot16(acc0, x0Low, x0, wLow, weights);
        acc1 = TStep.Dot16(acc1, x1Low, x1, wLow, weights);
    }
}

/// <summary>The step of <see cref="Qs8GemmC16{TStep}"/>: 16 int8 products of one pixel and one output channel.</summary>
public interface IQs8Dot16
{
    /// <summary>The ISA suffix of the kernel's name.</summary>
    static abstract string Isa { get; }

    /// <summary>
    /// acc plus the 16 products x[i] * w[i], summed in pairs through int16 (x[i] w[i] + x[i + 8] w[i + 8], wrapping as
    /// SMLAL does: exact for weights in [-127, 127]) and then into the four int32 lanes in any arrangement: only the
    /// lanes' total is defined.
    /// </summary>
    /// <remarks>
    /// <paramref name="xLow"/> and <paramref name="wLow"/> are the lower halves of x and w, loaded on their own: taken
    /// from the registers by GetLower(), NativeAOT's code spent a MOV on each weight vector.
    /// </remarks>
    static abstract Vector128<int> Dot16(Vector128<int> acc, Vector64<sbyte> xLow, Vector128<sbyte> x, Vector64<sbyte> wLow, Vector128<sbyte> w);

    /// <summary>[sum of a's lanes, of b's, of c's, of d's].</summary>
    static abstract Vector128<int> Sums4(Vector128<int> a, Vector128<int> b, Vector128<int> c, Vector128<int> d);
}

/// <summary>AdvSimd (Cortex-A53/A72, Pi 3/4): SMULL, SMLAL2, SADALP; the sums by three ADDP.</summary>
public readonly struct Qs8Dot16AdvSimd : IQs8Dot16
{
    public static string Isa => "AdvSimd";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Dot16(Vector128<int> acc, Vector64<sbyte> xLow, Vector128<sbyte> x, Vector64<sbyte> wLow, Vector128<sbyte> w) =>
        AdvSimd.AddPairwiseWideningAndAdd(acc, AdvSimd.MultiplyWideningUpperAndAdd(AdvSimd.MultiplyWideningLower(xLow, wLow), x, w));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Sums4(Vector128<int> a, Vector128<int> b, Vector128<int> c, Vector128<int> d) =>
        AdvSimd.Arm64.AddPairwise(AdvSimd.Arm64.AddPairwise(a, b), AdvSimd.Arm64.AddPairwise(c, d));
}

/// <summary>
/// Portable Vector128, the same arithmetic (int16 pair sums that wrap like SMLAL's): what the xunit tests run the
/// kernel with on x64, where the AdvSimd step cannot execute.
/// </summary>
public readonly struct Qs8Dot16Vector128 : IQs8Dot16
{
    public static string Isa => "Vector128";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Dot16(Vector128<int> acc, Vector64<sbyte> xLow, Vector128<sbyte> x, Vector64<sbyte> wLow, Vector128<sbyte> w)
    {
        var (x0, x1) = Vector128.Widen(x); // the halves come from x and w
        var (w0, w1) = Vector128.Widen(w);
        var (low, high) = Vector128.Widen(x0 * w0 + x1 * w1);
        return acc + low + high;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Sums4(Vector128<int> a, Vector128<int> b, Vector128<int> c, Vector128<int> d) =>
        Vector128.Create(Vector128.Sum(a), Vector128.Sum(b), Vector128.Sum(c), Vector128.Sum(d));
}
