using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using EdgeMobileNet.Kernels.Dispatch;
using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Kernels.Simd;

/// <summary>
/// int8 convolution as an indirect GEMM: the <see cref="F32Igemm{TOps, TV}"/> structure with int32 accumulators,
/// weights packed in <c>TOps.KGroup</c>-value words per output channel (c2 for PMADDWD/SMULL, c4 for SDOT).
/// The input zero point is folded into the packed bias (bias - zp * sum(w)); padding taps read a row filled
/// with the zero point, so they contribute (zp - zp) * w = 0 exactly as the reference skips them. The output
/// step requantizes with <see cref="Qs8Requantizer"/> (TFLite's fixed point, bit-exact).
/// </summary>
public sealed unsafe class Qs8Igemm<TOps, TV> : Qs8ConvolutionKernel
    where TOps : struct, IQs8Dot<TOps, TV>
    where TV : struct
{
    private const int MR = 4;
    private readonly AlignedBuffer<int> _packed;
    private readonly sbyte[] _padding;
    private readonly Qs8ChannelParams _requant;
    private readonly int _nr, _blocks, _groups, _fullGroups, _tail, _blockStride, _chunkPixels;
    private readonly int _inH, _inW, _inC;
    // Pointwise and fully connected: a pixel's input row is input + pixel * InC, no window origin.
    private readonly bool _pointwise;

    public Qs8Igemm(in ConvGeometry g, int inputZeroPoint, Qs8OutputParams outputParams, ReadOnlySpan<sbyte> filter,
        ReadOnlySpan<int> bias)
        : base(g, $"Qs8Igemm_{MR}x{2 * TOps.Count}c{TOps.KGroup}_{TOps.Isa}")
    {
        int taps = g.KernelH * g.KernelW;
        long k = (long)taps * g.InC;
        if (filter.Length != g.OutC * k) throw new ArgumentException($"filter has {filter.Length} elements, expected {g.OutC * k}");
        if (!bias.IsEmpty && bias.Length != g.OutC) throw new ArgumentException($"bias has {bias.Length} elements, expected {g.OutC}");
        if (outputParams.Multipliers.Length != 1 && outputParams.Multipliers.Length != g.OutC)
            throw new ArgumentException($"{outputParams.Multipliers.Length} multipliers for {g.OutC} output channels");
        int kg = TOps.KGroup;
        _nr = 2 * TOps.Count;
        _blocks = (g.OutC + _nr - 1) / _nr;
        _groups = (g.InC + kg - 1) / kg;
        _fullGroups = g.InC / kg;
        _tail = g.InC - _fullGroups * kg;
        _blockStride = _nr * (1 + taps * _groups);
        _packed = new AlignedBuffer<int>(Math.Max(_blocks * _blockStride, 1));
        var packed = _packed.Span;
        sbyte* word = stackalloc sbyte[4];
        for (int nb = 0; nb < _blocks; nb++)
        {
            int baseIndex = nb * _blockStride;
            for (int j = 0; j < _nr; j++)
            {
                int oc = nb * _nr + j;
                if (oc >= g.OutC) break;
                int sum = 0;
                for (int t = 0; t < taps; t++)
                for (int gi = 0; gi < _groups; gi++)
                {
                    *(int*)word = 0;
                    for (int e = 0; e < kg && gi * kg + e < g.InC; e++)
                    {
                        sbyte w = filter[(int)(oc * k + t * g.InC + gi * kg + e)];
                        word[e] = w;
                        sum += w;
                    }
                    packed[baseIndex + _nr + (t * _groups + gi) * _nr + j] = Qs8Words.Word(word, kg);
                }
                int b = bias.IsEmpty ? 0 : bias[oc];
                packed[baseIndex + j] = unchecked(b - inputZeroPoint * sum);
            }
        }
        _padding = GC.AllocateArray<sbyte>(g.InC + 4, pinned: true);
        _padding.AsSpan().Fill((sbyte)inputZeroPoint);
        _requant = new Qs8ChannelParams(outputParams, g.OutC, _blocks * _nr);
        _chunkPixels = Math.Clamp(65536 / (int)Math.Max(k, 1), MR, 1024) / MR * MR;
        (_inH, _inW, _inC) = (g.InH, g.InW, g.InC);
        _pointwise = g.IsPointwise;
    }

    public override int ColumnBlocks => _blocks;

    public override int TilePixels => MR;

    public override void Run(ReadOnlySpan<sbyte> input, Span<sbyte> output, int firstRow, int rowCount) =>
        RunRowsAsBlocks(input, output, firstRow, rowCount);

    protected override void ComputeBlocks(ReadOnlySpan<sbyte> input, Span<sbyte> output, int p0, int p1, int nb0, int nb1)
    {
        int* tile = stackalloc int[MR * 64];
        int* origins = stackalloc int[3 * MR];
        fixed (sbyte* inp = input)
        fixed (sbyte* outp = output)
        {
            for (int c0 = p0; c0 < p1; c0 += _chunkPixels)
            {
                int c1 = Math.Min(c0 + _chunkPixels, p1);
                for (int nb = nb0; nb < nb1; nb++)
                    for (int p = c0; p < c1; p += MR)
                        Tile(inp, outp, p, Math.Min(MR, c1 - p), nb, tile, origins);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Tile(sbyte* input, sbyte* output, int p, int rows, int nb, int* tile, int* origins)
    {
        var g = Geometry;
        // Per tile row: batch, first input row/column of its window; rows past the end repeat the last pixel.
        int* ob = origins, oy = origins + MR, ox = origins + 2 * MR;
        if (!_pointwise) TileOrigins.Fill(g, p, rows, MR, ob, oy, ox);
        int b0 = ob[0], y0 = oy[0], x0 = ox[0], b1 = ob[1], y1 = oy[1], x1 = ox[1], b2 = ob[2], y2 = oy[2], x2 = ox[2];
        int b3 = ob[3], y3 = oy[3], x3 = ox[3];

        int* w = _packed.Pointer + nb * _blockStride;
        sbyte* padding = (sbyte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_padding));
        int count = TOps.Count, nr = 2 * TOps.Count, kg = TOps.KGroup, fullGroups = _fullGroups, tail = _tail; // nr = _nr, a constant for the address arithmetic
        TV acc00 = TOps.Load(w), acc01 = TOps.Load(w + count);
        TV acc10 = acc00, acc11 = acc01, acc20 = acc00, acc21 = acc01, acc30 = acc00, acc31 = acc01;
        w += nr;

        for (int ky = 0; ky < g.KernelH; ky++)
        {
            int dy = ky * g.DilationH;
            for (int kx = 0; kx < g.KernelW; kx++)
            {
                int dx = kx * g.DilationW;
                sbyte* a0, a1, a2, a3;
                if (_pointwise)
                {
                    // Rows past the end repeat the last pixel, as the origins do.
                    a0 = input + (long)p * _inC;
                    a1 = a0 + Math.Min(1, rows - 1) * _inC;
                    a2 = a0 + Math.Min(2, rows - 1) * _inC;
                    a3 = a0 + Math.Min(3, rows - 1) * _inC;
                }
                else
                {
                    a0 = Row(input, padding, b0, y0 + dy, x0 + dx);
                    a1 = Row(input, padding, b1, y1 + dy, x1 + dx);
                    a2 = Row(input, padding, b2, y2 + dy, x2 + dx);
                    a3 = Row(input, padding, b3, y3 + dy, x3 + dx);
                }
                int gi = 0;
                // Where the ISA takes a word by lane (SDOT by element): four groups of each row in one load.
                for (; TOps.DotsByLane && gi + 4 <= fullGroups; gi += 4)
                {
                    TV g0 = TOps.LoadGroups(a0), g1 = TOps.LoadGroups(a1), g2 = TOps.LoadGroups(a2), g3 = TOps.LoadGroups(a3);
                    DotLanes(w, 0, g0, g1, g2, g3, ref acc00, ref acc01, ref acc10, ref acc11, ref acc20, ref acc21, ref acc30, ref acc31);
                    DotLanes(w + nr, 1, g0, g1, g2, g3, ref acc00, ref acc01, ref acc10, ref acc11, ref acc20, ref acc21, ref acc30, ref acc31);
                    DotLanes(w + 2 * nr, 2, g0, g1, g2, g3, ref acc00, ref acc01, ref acc10, ref acc11, ref acc20, ref acc21, ref acc30, ref acc31);
                    DotLanes(w + 3 * nr, 3, g0, g1, g2, g3, ref acc00, ref acc01, ref acc10, ref acc11, ref acc20, ref acc21, ref acc30, ref acc31);
                    w += 4 * nr;
                    a0 += 4 * kg; a1 += 4 * kg; a2 += 4 * kg; a3 += 4 * kg;
                }
                // Off on the by-lane path, whose remainder takes single groups: with both loops the register allocator
                // moved four accumulators through the stack on every by-lane iteration.
                for (; !TOps.DotsByLane && gi + 2 <= fullGroups; gi += 2)
                {
                    TV w0 = TOps.Load(w), w1 = TOps.Load(w + count), w2 = TOps.Load(w + nr), w3 = TOps.Load(w + nr + count);
                    w += 2 * nr;
                    TOps.BroadcastPair(a0, out TV v, out TV u);
                    acc00 = TOps.Dot2(acc00, v, w0, u, w2);
                    acc01 = TOps.Dot2(acc01, v, w1, u, w3);
                    TOps.BroadcastPair(a1, out v, out u);
                    acc10 = TOps.Dot2(acc10, v, w0, u, w2);
                    acc11 = TOps.Dot2(acc11, v, w1, u, w3);
                    TOps.BroadcastPair(a2, out v, out u);
                    acc20 = TOps.Dot2(acc20, v, w0, u, w2);
                    acc21 = TOps.Dot2(acc21, v, w1, u, w3);
                    TOps.BroadcastPair(a3, out v, out u);
                    acc30 = TOps.Dot2(acc30, v, w0, u, w2);
                    acc31 = TOps.Dot2(acc31, v, w1, u, w3);
                    a0 += 2 * kg; a1 += 2 * kg; a2 += 2 * kg; a3 += 2 * kg;
                }
                for (; gi < fullGroups; gi++)
                {
                    TV w0 = TOps.Load(w), w1 = TOps.Load(w + count);
                    w += nr;
                    TV v = TOps.Broadcast(Qs8Words.Word(a0, kg));
                    acc00 = TOps.Dot(acc00, v, w0);
                    acc01 = TOps.Dot(acc01, v, w1);
                    v = TOps.Broadcast(Qs8Words.Word(a1, kg));
                    acc10 = TOps.Dot(acc10, v, w0);
                    acc11 = TOps.Dot(acc11, v, w1);
                    v = TOps.Broadcast(Qs8Words.Word(a2, kg));
                    acc20 = TOps.Dot(acc20, v, w0);
                    acc21 = TOps.Dot(acc21, v, w1);
                    v = TOps.Broadcast(Qs8Words.Word(a3, kg));
                    acc30 = TOps.Dot(acc30, v, w0);
                    acc31 = TOps.Dot(acc31, v, w1);
                    a0 += kg; a1 += kg; a2 += kg; a3 += kg;
                }
                if (tail > 0)
                {
                    TV w0 = TOps.Load(w), w1 = TOps.Load(w + count);
                    w += nr;
                    TV v = TOps.Broadcast(Qs8Words.PartialWord(a0, tail, kg));
                    acc00 = TOps.Dot(acc00, v, w0);
                    acc01 = TOps.Dot(acc01, v, w1);
                    v = TOps.Broadcast(Qs8Words.PartialWord(a1, tail, kg));
                    acc10 = TOps.Dot(acc10, v, w0);
                    acc11 = TOps.Dot(acc11, v, w1);
                    v = TOps.Broadcast(Qs8Words.PartialWord(a2, tail, kg));
                    acc20 = TOps.Dot(acc20, v, w0);
                    acc21 = TOps.Dot(acc21, v, w1);
                    v = TOps.Broadcast(Qs8Words.PartialWord(a3, tail, kg));
                    acc30 = TOps.Dot(acc30, v, w0);
                    acc31 = TOps.Dot(acc31, v, w1);
                }
            }
        }

        int oc0 = nb * nr;
        int valid = Math.Min(nr, g.OutC - oc0);
        if (typeof(TV) == typeof(Vector128<int>))
        {
            // Four-lane ops (AdvSimd, Dp, Vector128): each row's 8 channels requantized from the registers. Storing the
            // tile for Row to reload took about 430 instructions per full tile in the arm64 binary, this about 160 (a
            // pass of the Dp inner loop, 16 input channels, is 52).
            var zp = Vector128.Create(_requant.ZeroPoint);
            var min = Vector128.Create(_requant.Min);
            var max = Vector128.Create(_requant.Max);
            sbyte* o = output + (long)p * g.OutC + oc0;
            Qs8Requantizer.StoreEight(As128(acc00), As128(acc01), _requant, oc0, zp, min, max, o, valid);
            if (rows > 1) Qs8Requantizer.StoreEight(As128(acc10), As128(acc11), _requant, oc0, zp, min, max, o + g.OutC, valid);
            if (rows > 2) Qs8Requantizer.StoreEight(As128(acc20), As128(acc21), _requant, oc0, zp, min, max, o + 2L * g.OutC, valid);
            if (rows > 3) Qs8Requantizer.StoreEight(As128(acc30), As128(acc31), _requant, oc0, zp, min, max, o + 3L * g.OutC, valid);
            return;
        }
        TOps.Store(tile, acc00);
        TOps.Store(tile + count, acc01);
        TOps.Store(tile + nr, acc10);
        TOps.Store(tile + nr + count, acc11);
        TOps.Store(tile + 2 * nr, acc20);
        TOps.Store(tile + 2 * nr + count, acc21);
        TOps.Store(tile + 3 * nr, acc30);
        TOps.Store(tile + 3 * nr + count, acc31);
        for (int m = 0; m < rows; m++)
            Qs8Requantizer.Row(tile + m * nr, output + (long)(p + m) * g.OutC + oc0, valid, _requant, oc0, TOps.WideRequantize);
    }

    /// <summary>
    /// One group of the four rows (lane <paramref name="lane"/> of x0..x3) against the block's two weight vectors at
    /// <paramref name="w"/>: per four groups 8 weight and 4 input loads for 32 SDOTs, where broadcasting each word
    /// took a load and a DUP per row and group.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DotLanes(int* w, [ConstantExpected(Max = 3)] byte lane, TV x0, TV x1, TV x2, TV x3,
        ref TV acc00, ref TV acc01, ref TV acc10, ref TV acc11, ref TV acc20, ref TV acc21, ref TV acc30, ref TV acc31)
    {
        TV w0 = TOps.Load(w), w1 = TOps.Load(w + TOps.Count);
        acc00 = TOps.DotLane(acc00, x0, lane, w0); acc01 = TOps.DotLane(acc01, x0, lane, w1);
        acc10 = TOps.DotLane(acc10, x1, lane, w0); acc11 = TOps.DotLane(acc11, x1, lane, w1);
        acc20 = TOps.DotLane(acc20, x2, lane, w0); acc21 = TOps.DotLane(acc21, x2, lane, w1);
        acc30 = TOps.DotLane(acc30, x3, lane, w0); acc31 = TOps.DotLane(acc31, x3, lane, w1);
    }

    /// <summary>The accumulator as the Vector128 it is when <typeparamref name="TV"/> is Vector128&lt;int&gt; (checked by the caller).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> As128(TV v) => Unsafe.As<TV, Vector128<int>>(ref v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private sbyte* Row(sbyte* input, sbyte* padding, int b, int iy, int ix)
    {
        if ((uint)iy >= (uint)_inH || (uint)ix >= (uint)_inW) return padding;
        return input + ((long)(b * _inH + iy) * _inW + ix) * _inC;
    }
}
