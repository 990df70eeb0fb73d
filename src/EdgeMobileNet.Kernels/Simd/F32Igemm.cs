using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EdgeMobileNet.Kernels.Dispatch;

namespace EdgeMobileNet.Kernels.Simd;

/// <summary>
/// fp32 convolution as an indirect GEMM (XNNPACK IGEMM): a 6-pixel x (2 vectors of channels) register tile
/// accumulates over taps x input channels, reading each tap's input row through a pointer (or a zero row for
/// padding), so 1x1 (pointwise), 3x3 stride 2 (first layer), any stride/dilation/padding, and fully connected
/// (1x1 over batch pixels) share one micro-kernel (<see cref="AccumulateRun"/>). Pointwise layers have a tile of
/// their own that runs it once over six consecutive pixels, free of the window's bookkeeping: in one process,
/// whole models alternating with the former shared tile (a pointwise branch inside the windowed one), V2 1.0-224
/// fp32 at 1 thread went 13.6 -> 11.2 and 16.4 -> 13.6 ms, V1 1.0-224 18.2 -> 16.8 and 23.2 -> 20.9 ms (depth-16
/// layers 15 % faster alone, depth 512 unchanged). Weights are packed at load per block of 2 vectors of output
/// channels: [bias][taps * InC][2 vectors]; bias and clamp are fused. Windows over fewer than 8 input channels
/// (the first layer: 3x3 over RGB) stage each chunk of pixels' im2col rows and run them through a pointwise
/// instance instead: with three channels per tap, the per-tap pointer setup cost as much as the arithmetic.
/// </summary>
public sealed unsafe class F32Igemm<TOps, TV> : F32ConvolutionKernel
    where TOps : struct, IF32Ops<TV>
    where TV : struct
{
    private const int MR = 6;
    // 1x1, stride 1, unpadded (and fully connected): a pixel's input row is input + pixel * InC, no window origin.
    private readonly bool _pointwise;
    private readonly F32Igemm<TOps, TV>? _im2col;
    private readonly int _stagedPixels;
    private readonly (int From, int To) _inside; // output columns whose window rows lie inside the input's width
    private readonly AlignedBuffer<float> _packed;
    private readonly float[] _zeros;
    private readonly int _nr, _blocks, _k, _blockStride, _chunkPixels;
    private readonly float _min, _max;
    private readonly int _inH, _inW, _inC;
    // The last block holds at most one vector of channels (OutC 8 or 24 with AVX2): its tiles skip the second vector.
    private readonly bool _lastBlockOneVector;

    public F32Igemm(in ConvGeometry g, ReadOnlySpan<float> filter, ReadOnlySpan<float> bias, float outputMin, float outputMax)
        : base(g, $"F32Igemm_{MR}x{2 * TOps.Count}_{TOps.Isa}")
    {
        if (filter.Length != (long)g.OutC * g.KernelH * g.KernelW * g.InC)
            throw new ArgumentException($"filter has {filter.Length} elements, expected {(long)g.OutC * g.KernelH * g.KernelW * g.InC}");
        if (!bias.IsEmpty && bias.Length != g.OutC) throw new ArgumentException($"bias has {bias.Length} elements, expected {g.OutC}");
        _nr = 2 * TOps.Count;
        _blocks = (g.OutC + _nr - 1) / _nr;
        _k = g.KernelH * g.KernelW * g.InC;
        _blockStride = _nr * (1 + _k);
        _packed = new AlignedBuffer<float>(Math.Max(_blocks * _blockStride, 1));
        var packed = _packed.Span;
        for (int nb = 0; nb < _blocks; nb++)
        {
            int baseIndex = nb * _blockStride;
            for (int j = 0; j < _nr; j++)
            {
                int oc = nb * _nr + j;
                if (oc >= g.OutC) break;
                packed[baseIndex + j] = bias.IsEmpty ? 0f : bias[oc];
                for (int k = 0; k < _k; k++) packed[baseIndex + _nr + k * _nr + j] = filter[oc * _k + k];
            }
        }
        _zeros = GC.AllocateArray<float>(Math.Max(g.InC, 1), pinned: true);
        // Pixels per chunk: the chunk's input rows (chunk * K floats) stay in L2 while every channel block passes over them.
        _chunkPixels = Math.Clamp(65536 / Math.Max(_k, 1), MR, 1024) / MR * MR;
        _min = outputMin;
        _max = outputMax;
        (_inH, _inW, _inC) = (g.InH, g.InW, g.InC);
        _pointwise = g.IsPointwise;
        _lastBlockOneVector = g.OutC - (_blocks - 1) * _nr <= TOps.Count;
        if (g.KernelH * g.KernelW > 1 && g.InC < 8)
        {
            // Staged rows live on the stack: 64 KB per chunk. The filter [OutC][taps * InC] is already the pointwise
            // instance's [OutC][K].
            _stagedPixels = Math.Clamp(16384 / _k, MR, 1024) / MR * MR;
            _inside = Im2colRows.InsideColumns(g);
            _im2col = new F32Igemm<TOps, TV>(FullyConnectedGeometry.Of(_stagedPixels, _k, g.OutC), filter, bias, outputMin, outputMax);
        }
    }

    public override int ColumnBlocks => _blocks;

    public override int TilePixels => MR;

    public override bool StagesRows => _im2col is not null;

    public override void Run(ReadOnlySpan<float> input, Span<float> output, int firstRow, int rowCount) =>
        RunRowsAsBlocks(input, output, firstRow, rowCount);

    protected override void ComputeBlocks(ReadOnlySpan<float> input, Span<float> output, int p0, int p1, int nb0, int nb1)
    {
        if (_im2col is not null)
        {
            StagedBlocks(input, output, p0, p1, nb0, nb1);
            return;
        }
        float* tileSpace = stackalloc float[MR * 64 + CacheLine.Bytes / sizeof(float)];
        float* tile = CacheLine.Align(tileSpace);
        int* origins = stackalloc int[3 * MR];
        fixed (float* inp = input)
        fixed (float* outp = output)
        {
            for (int c0 = p0; c0 < p1; c0 += _chunkPixels)
            {
                int c1 = Math.Min(c0 + _chunkPixels, p1), tiles = (c1 - c0 + MR - 1) / MR;
                for (int nb = nb0; nb < nb1; nb++)
                {
                    if (nb == _blocks - 1 && _lastBlockOneVector) BlockTiles<FirstVector>(inp, outp, c0, c1, nb, nb1, tiles, tile, origins);
                    else BlockTiles<BothVectors>(inp, outp, c0, c1, nb, nb1, tiles, tile, origins);
                }
            }
        }
    }

    /// <summary>Pixels [c0, c1) of channel block <paramref name="nb"/>, tile by tile, prefetching the next block's weights.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void BlockTiles<TWidth>(float* inp, float* outp, int c0, int c1, int nb, int nb1, int tiles, float* tile, int* origins)
        where TWidth : struct, ITileWidth
    {
        float* packed = _packed.Pointer;
        for (int p = c0, t = 0; p < c1; p += MR, t++)
        {
            if (nb + 1 < nb1) WeightPrefetch.Share(packed + (long)(nb + 1) * _blockStride, _blockStride * sizeof(float), t, tiles);
            if (c1 - p == 1) SinglePixel(inp, outp, p, nb, tile);
            else if (_pointwise) PointwiseTile<TWidth>(inp, outp, p, Math.Min(MR, c1 - p), nb, tile);
            else Tile<TWidth>(inp, outp, p, Math.Min(MR, c1 - p), nb, tile, origins);
        }
    }

    [SkipLocalsInit]
    private void StagedBlocks(ReadOnlySpan<float> input, Span<float> output, int p0, int p1, int nb0, int nb1)
    {
        var g = Geometry;
        float* rowsSpace = stackalloc float[_stagedPixels * _k + CacheLine.Bytes / sizeof(float)];
        float* rows = CacheLine.Align(rowsSpace);
        fixed (float* inp = input)
        {
            for (int c0 = p0; c0 < p1; c0 += _stagedPixels)
            {
                int n = Math.Min(_stagedPixels, p1 - c0);
                Im2colRows.Write(g, inp, rows, _k, c0, n, _inside, new FloatCopy());
                _im2col!.ComputeBlocks(new ReadOnlySpan<float>(rows, n * _k), output.Slice(c0 * g.OutC, n * g.OutC), 0, n, nb0, nb1);
            }
        }
    }

    /// <summary>Copies floats into the im2col rows a vector at a time; padding is zeros.</summary>
    private readonly struct FloatCopy : IIm2colCopy<float, float>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Copy(float* source, float* target, int count)
        {
            int i = 0, n = TOps.Count;
            for (; i + n <= count; i += n) TOps.Store(target + i, TOps.Load(source + i));
            for (; i < count; i++) target[i] = source[i];
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Pad(float* target, int count) => new Span<float>(target, count).Clear();
    }

    /// <summary>A 6-pixel x 2-vector tile of a windowed convolution: each tap's six input rows through <see cref="Row"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Tile<TWidth>(float* input, float* output, int p, int rows, int nb, float* tile, int* origins)
        where TWidth : struct, ITileWidth
    {
        var g = Geometry;
        // Per tile row: batch, first input row/column of its window; rows past the end repeat the last pixel.
        int* ob = origins, oy = origins + MR, ox = origins + 2 * MR;
        TileOrigins.Fill(g, p, rows, MR, ob, oy, ox);
        int b0 = ob[0], y0 = oy[0], x0 = ox[0], b1 = ob[1], y1 = oy[1], x1 = ox[1], b2 = ob[2], y2 = oy[2], x2 = ox[2];
        int b3 = ob[3], y3 = oy[3], x3 = ox[3], b4 = ob[4], y4 = oy[4], x4 = ox[4], b5 = ob[5], y5 = oy[5], x5 = ox[5];

        float* w = _packed.Pointer + nb * _blockStride;
        float* zeros = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_zeros));
        int count = TOps.Count, nr = _nr, inC = g.InC;
        // The reference's order: sum from +0 over (ky, kx, ic), bias added last.
        TV acc00 = TOps.Broadcast(0f), acc01 = acc00;
        TV acc10 = acc00, acc11 = acc00, acc20 = acc00, acc21 = acc00, acc30 = acc00, acc31 = acc00;
        TV acc40 = acc00, acc41 = acc00, acc50 = acc00, acc51 = acc00;
        w += nr;

        for (int ky = 0; ky < g.KernelH; ky++)
        {
            int dy = ky * g.DilationH;
            for (int kx = 0; kx < g.KernelW; kx++)
            {
                int dx = kx * g.DilationW;
                float* a0 = Row(input, zeros, b0, y0 + dy, x0 + dx);
                float* a1 = Row(input, zeros, b1, y1 + dy, x1 + dx);
                float* a2 = Row(input, zeros, b2, y2 + dy, x2 + dx);
                float* a3 = Row(input, zeros, b3, y3 + dy, x3 + dx);
                float* a4 = Row(input, zeros, b4, y4 + dy, x4 + dx);
                float* a5 = Row(input, zeros, b5, y5 + dy, x5 + dx);
                w = AccumulateRun<TWidth>(w, inC, a0, a1, a2, a3, a4, a5, ref acc00, ref acc01, ref acc10, ref acc11, ref acc20, ref acc21,
                    ref acc30, ref acc31, ref acc40, ref acc41, ref acc50, ref acc51);
            }
        }

        StoreTile(output, p, rows, nb, tile, acc00, acc01, acc10, acc11, acc20, acc21, acc30, acc31, acc40, acc41, acc50, acc51);
    }

    /// <summary>
    /// <see cref="Tile"/> for a pointwise layer (1x1, stride 1, unpadded; fully connected): the six rows are
    /// consecutive input pixels, so there is no window to walk. Its own method keeps the loop's registers free of the
    /// window's bookkeeping: with depth 16 (MobileNet V2's first expansion) the tile's fixed cost is as large as its
    /// arithmetic.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PointwiseTile<TWidth>(float* input, float* output, int p, int rows, int nb, float* tile)
        where TWidth : struct, ITileWidth
    {
        int count = TOps.Count, nr = _nr, inC = _inC;
        float* w = _packed.Pointer + nb * _blockStride + nr;
        // Rows past the end repeat the last pixel.
        float* a0 = input + (long)p * inC;
        float* a1 = a0 + Math.Min(1, rows - 1) * inC;
        float* a2 = a0 + Math.Min(2, rows - 1) * inC;
        float* a3 = a0 + Math.Min(3, rows - 1) * inC;
        float* a4 = a0 + Math.Min(4, rows - 1) * inC;
        float* a5 = a0 + Math.Min(5, rows - 1) * inC;
        TV acc00 = TOps.Broadcast(0f), acc01 = acc00;
        TV acc10 = acc00, acc11 = acc00, acc20 = acc00, acc21 = acc00, acc30 = acc00, acc31 = acc00;
        TV acc40 = acc00, acc41 = acc00, acc50 = acc00, acc51 = acc00;
        AccumulateRun<TWidth>(w, inC, a0, a1, a2, a3, a4, a5, ref acc00, ref acc01, ref acc10, ref acc11, ref acc20, ref acc21,
            ref acc30, ref acc31, ref acc40, ref acc41, ref acc50, ref acc51);
        StoreTile(output, p, rows, nb, tile, acc00, acc01, acc10, acc11, acc20, acc21, acc30, acc31, acc40, acc41, acc50, acc51);
    }

    /// <summary>
    /// The tile's arithmetic: <paramref name="n"/> input channels of six rows times the packed weights at
    /// <paramref name="w"/> (two vectors per channel) into the twelve accumulators; returns the next weights. Inlined
    /// into each tile, whose accumulators stay in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* AccumulateRun<TWidth>(float* w, int n, float* a0, float* a1, float* a2, float* a3, float* a4, float* a5,
        ref TV acc00, ref TV acc01, ref TV acc10, ref TV acc11, ref TV acc20, ref TV acc21,
        ref TV acc30, ref TV acc31, ref TV acc40, ref TV acc41, ref TV acc50, ref TV acc51)
        where TWidth : struct, ITileWidth
    {
        int count = TOps.Count, nr = 2 * count;
        if (!TWidth.Both)
        {
            // The second vector's channels do not exist: half the loads and multiplies.
            for (int ic = 0; ic < n; ic++, w += nr)
            {
                TV w0 = TOps.Load(w);
                acc00 = TOps.MultiplyAdd(acc00, TOps.Broadcast(a0[ic]), w0);
                acc10 = TOps.MultiplyAdd(acc10, TOps.Broadcast(a1[ic]), w0);
                acc20 = TOps.MultiplyAdd(acc20, TOps.Broadcast(a2[ic]), w0);
                acc30 = TOps.MultiplyAdd(acc30, TOps.Broadcast(a3[ic]), w0);
                acc40 = TOps.MultiplyAdd(acc40, TOps.Broadcast(a4[ic]), w0);
                acc50 = TOps.MultiplyAdd(acc50, TOps.Broadcast(a5[ic]), w0);
            }
            return w;
        }
        int k = 0;
        // Four channels per iteration: the loop's own instructions (index, pointer, compare, branch) were a fifth of
        // its body with one (two: fp32 pointwise layers alone 1.00-1.07x; four: in V1 1.0-224, in turn, pointwise
        // layers 1.01-1.05x, their sum 1.016-1.021x; V1 0.25-128 and V2 within 1 %).
        for (; k + 4 <= n; k += 4, w += 4 * nr)
        {
            if (TOps.MultipliesByLane)
            {
                LaneStep(w, a0 + k, a1 + k, a2 + k, a3 + k, a4 + k, a5 + k, ref acc00, ref acc01, ref acc10, ref acc11, ref acc20,
                    ref acc21, ref acc30, ref acc31, ref acc40, ref acc41, ref acc50, ref acc51);
                continue;
            }
            Step(w, a0 + k, a1 + k, a2 + k, a3 + k, a4 + k, a5 + k, ref acc00, ref acc01, ref acc10, ref acc11, ref acc20, ref acc21,
                ref acc30, ref acc31, ref acc40, ref acc41, ref acc50, ref acc51);
            Step(w + nr, a0 + k + 1, a1 + k + 1, a2 + k + 1, a3 + k + 1, a4 + k + 1, a5 + k + 1, ref acc00, ref acc01, ref acc10,
                ref acc11, ref acc20, ref acc21, ref acc30, ref acc31, ref acc40, ref acc41, ref acc50, ref acc51);
            Step(w + 2 * nr, a0 + k + 2, a1 + k + 2, a2 + k + 2, a3 + k + 2, a4 + k + 2, a5 + k + 2, ref acc00, ref acc01, ref acc10,
                ref acc11, ref acc20, ref acc21, ref acc30, ref acc31, ref acc40, ref acc41, ref acc50, ref acc51);
            Step(w + 3 * nr, a0 + k + 3, a1 + k + 3, a2 + k + 3, a3 + k + 3, a4 + k + 3, a5 + k + 3, ref acc00, ref acc01, ref acc10,
                ref acc11, ref acc20, ref acc21, ref acc30, ref acc31, ref acc40, ref acc41, ref acc50, ref acc51);
        }
        for (; k < n; k++, w += nr)
            Step(w, a0 + k, a1 + k, a2 + k, a3 + k, a4 + k, a5 + k, ref acc00, ref acc01, ref acc10, ref acc11, ref acc20, ref acc21,
                ref acc30, ref acc31, ref acc40, ref acc41, ref acc50, ref acc51);
        return w;
    }

    /// <summary>
    /// Four input channels where the ISA multiplies by lane (<see cref="IF32Ops{TV}.MultipliesByLane"/>, 4 lanes): each
    /// row's four values are one vector load, and each channel's two weight vectors multiply its lane. The same fused
    /// products in the same order as four <see cref="Step"/>s: the AdvSimd loop is 67 instructions per 48 FMLA, where
    /// the broadcasts (a load and a DUP per value and row) made it 128.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LaneStep(float* w, float* a0, float* a1, float* a2, float* a3, float* a4, float* a5,
        ref TV acc00, ref TV acc01, ref TV acc10, ref TV acc11, ref TV acc20, ref TV acc21,
        ref TV acc30, ref TV acc31, ref TV acc40, ref TV acc41, ref TV acc50, ref TV acc51)
    {
        int nr = 2 * TOps.Count;
        TV x0 = TOps.Load(a0), x1 = TOps.Load(a1), x2 = TOps.Load(a2), x3 = TOps.Load(a3), x4 = TOps.Load(a4), x5 = TOps.Load(a5);
        Lane(w, 0, x0, x1, x2, x3, x4, x5, ref acc00, ref acc01, ref acc10, ref acc11, ref acc20, ref acc21, ref acc30, ref acc31,
            ref acc40, ref acc41, ref acc50, ref acc51);
        Lane(w + nr, 1, x0, x1, x2, x3, x4, x5, ref acc00, ref acc01, ref acc10, ref acc11, ref acc20, ref acc21, ref acc30, ref acc31,
            ref acc40, ref acc41, ref acc50, ref acc51);
        Lane(w + 2 * nr, 2, x0, x1, x2, x3, x4, x5, ref acc00, ref acc01, ref acc10, ref acc11, ref acc20, ref acc21, ref acc30, ref acc31,
            ref acc40, ref acc41, ref acc50, ref acc51);
        Lane(w + 3 * nr, 3, x0, x1, x2, x3, x4, x5, ref acc00, ref acc01, ref acc10, ref acc11, ref acc20, ref acc21, ref acc30, ref acc31,
            ref acc40, ref acc41, ref acc50, ref acc51);
    }

    /// <summary>One input channel: lane <paramref name="lane"/> of each row's vector times both weight vectors at <paramref name="w"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Lane(float* w, [ConstantExpected(Max = 3)] byte lane, TV x0, TV x1, TV x2, TV x3, TV x4, TV x5,
        ref TV acc00, ref TV acc01, ref TV acc10, ref TV acc11, ref TV acc20, ref TV acc21,
        ref TV acc30, ref TV acc31, ref TV acc40, ref TV acc41, ref TV acc50, ref TV acc51)
    {
        TV w0 = TOps.Load(w), w1 = TOps.Load(w + TOps.Count);
        acc00 = TOps.MultiplyAddLane(acc00, w0, x0, lane); acc01 = TOps.MultiplyAddLane(acc01, w1, x0, lane);
        acc10 = TOps.MultiplyAddLane(acc10, w0, x1, lane); acc11 = TOps.MultiplyAddLane(acc11, w1, x1, lane);
        acc20 = TOps.MultiplyAddLane(acc20, w0, x2, lane); acc21 = TOps.MultiplyAddLane(acc21, w1, x2, lane);
        acc30 = TOps.MultiplyAddLane(acc30, w0, x3, lane); acc31 = TOps.MultiplyAddLane(acc31, w1, x3, lane);
        acc40 = TOps.MultiplyAddLane(acc40, w0, x4, lane); acc41 = TOps.MultiplyAddLane(acc41, w1, x4, lane);
        acc50 = TOps.MultiplyAddLane(acc50, w0, x5, lane); acc51 = TOps.MultiplyAddLane(acc51, w1, x5, lane);
    }

    /// <summary>One input channel: each row's value (at a0..a5) broadcast times both weight vectors at <paramref name="w"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(float* w, float* a0, float* a1, float* a2, float* a3, float* a4, float* a5,
        ref TV acc00, ref TV acc01, ref TV acc10, ref TV acc11, ref TV acc20, ref TV acc21,
        ref TV acc30, ref TV acc31, ref TV acc40, ref TV acc41, ref TV acc50, ref TV acc51)
    {
        TV w0 = TOps.Load(w), w1 = TOps.Load(w + TOps.Count);
        // One row per line.
        TV v = TOps.Broadcast(*a0); acc00 = TOps.MultiplyAdd(acc00, v, w0); acc01 = TOps.MultiplyAdd(acc01, v, w1);
        v = TOps.Broadcast(*a1); acc10 = TOps.MultiplyAdd(acc10, v, w0); acc11 = TOps.MultiplyAdd(acc11, v, w1);
        v = TOps.Broadcast(*a2); acc20 = TOps.MultiplyAdd(acc20, v, w0); acc21 = TOps.MultiplyAdd(acc21, v, w1);
        v = TOps.Broadcast(*a3); acc30 = TOps.MultiplyAdd(acc30, v, w0); acc31 = TOps.MultiplyAdd(acc31, v, w1);
        v = TOps.Broadcast(*a4); acc40 = TOps.MultiplyAdd(acc40, v, w0); acc41 = TOps.MultiplyAdd(acc41, v, w1);
        v = TOps.Broadcast(*a5); acc50 = TOps.MultiplyAdd(acc50, v, w0); acc51 = TOps.MultiplyAdd(acc51, v, w1);
    }

    /// <summary>Which vectors of a channel block a tile computes: both, or only the first (a last block of at most one vector of channels).</summary>
    private interface ITileWidth { static abstract bool Both { get; } }
    private readonly struct BothVectors : ITileWidth { public static bool Both => true; }
    private readonly struct FirstVector : ITileWidth { public static bool Both => false; }

    /// <summary>The output step of a 6-row tile: bias (added last, as the reference does), clamp, store the valid rows and channels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void StoreTile(float* output, int p, int rows, int nb, float* tile, TV acc00, TV acc01, TV acc10, TV acc11,
        TV acc20, TV acc21, TV acc30, TV acc31, TV acc40, TV acc41, TV acc50, TV acc51)
    {
        var g = Geometry;
        int count = TOps.Count, nr = _nr;
        float* w = _packed.Pointer + nb * _blockStride;
        TV bias0 = TOps.Load(w), bias1 = TOps.Load(w + count);
        acc00 = TOps.MultiplyAdd(bias0, acc00, TOps.Broadcast(1f));
        acc01 = TOps.MultiplyAdd(bias1, acc01, TOps.Broadcast(1f));
        acc10 = TOps.MultiplyAdd(bias0, acc10, TOps.Broadcast(1f));
        acc11 = TOps.MultiplyAdd(bias1, acc11, TOps.Broadcast(1f));
        acc20 = TOps.MultiplyAdd(bias0, acc20, TOps.Broadcast(1f));
        acc21 = TOps.MultiplyAdd(bias1, acc21, TOps.Broadcast(1f));
        acc30 = TOps.MultiplyAdd(bias0, acc30, TOps.Broadcast(1f));
        acc31 = TOps.MultiplyAdd(bias1, acc31, TOps.Broadcast(1f));
        acc40 = TOps.MultiplyAdd(bias0, acc40, TOps.Broadcast(1f));
        acc41 = TOps.MultiplyAdd(bias1, acc41, TOps.Broadcast(1f));
        acc50 = TOps.MultiplyAdd(bias0, acc50, TOps.Broadcast(1f));
        acc51 = TOps.MultiplyAdd(bias1, acc51, TOps.Broadcast(1f));
        TV min = TOps.Broadcast(_min), max = TOps.Broadcast(_max);
        int oc0 = nb * nr;
        int valid = Math.Min(nr, g.OutC - oc0);
        if (valid == nr)
        {
            float* o = output + (long)p * g.OutC + oc0;
            TOps.Store(o, TOps.Clamp(acc00, min, max));
            TOps.Store(o + count, TOps.Clamp(acc01, min, max));
            if (rows > 1) { o += g.OutC; TOps.Store(o, TOps.Clamp(acc10, min, max)); TOps.Store(o + count, TOps.Clamp(acc11, min, max)); }
            if (rows > 2) { o += g.OutC; TOps.Store(o, TOps.Clamp(acc20, min, max)); TOps.Store(o + count, TOps.Clamp(acc21, min, max)); }
            if (rows > 3) { o += g.OutC; TOps.Store(o, TOps.Clamp(acc30, min, max)); TOps.Store(o + count, TOps.Clamp(acc31, min, max)); }
            if (rows > 4) { o += g.OutC; TOps.Store(o, TOps.Clamp(acc40, min, max)); TOps.Store(o + count, TOps.Clamp(acc41, min, max)); }
            if (rows > 5) { o += g.OutC; TOps.Store(o, TOps.Clamp(acc50, min, max)); TOps.Store(o + count, TOps.Clamp(acc51, min, max)); }
            return;
        }
        // A partial block: a whole first vector goes straight out (layers of 8 or 24 channels have no second
        // half at all); the rest through the scratch tile.
        int first = 0;
        if (valid >= count)
        {
            first = count;
            float* o = output + (long)p * g.OutC + oc0;
            TOps.Store(o, TOps.Clamp(acc00, min, max));
            if (rows > 1) TOps.Store(o + g.OutC, TOps.Clamp(acc10, min, max));
            if (rows > 2) TOps.Store(o + 2 * g.OutC, TOps.Clamp(acc20, min, max));
            if (rows > 3) TOps.Store(o + 3 * g.OutC, TOps.Clamp(acc30, min, max));
            if (rows > 4) TOps.Store(o + 4 * g.OutC, TOps.Clamp(acc40, min, max));
            if (rows > 5) TOps.Store(o + 5 * g.OutC, TOps.Clamp(acc50, min, max));
            if (valid == count) return;
        }
        TOps.Store(tile, TOps.Clamp(acc00, min, max));
        TOps.Store(tile + count, TOps.Clamp(acc01, min, max));
        TOps.Store(tile + nr, TOps.Clamp(acc10, min, max));
        TOps.Store(tile + nr + count, TOps.Clamp(acc11, min, max));
        TOps.Store(tile + 2 * nr, TOps.Clamp(acc20, min, max));
        TOps.Store(tile + 2 * nr + count, TOps.Clamp(acc21, min, max));
        TOps.Store(tile + 3 * nr, TOps.Clamp(acc30, min, max));
        TOps.Store(tile + 3 * nr + count, TOps.Clamp(acc31, min, max));
        TOps.Store(tile + 4 * nr, TOps.Clamp(acc40, min, max));
        TOps.Store(tile + 4 * nr + count, TOps.Clamp(acc41, min, max));
        TOps.Store(tile + 5 * nr, TOps.Clamp(acc50, min, max));
        TOps.Store(tile + 5 * nr + count, TOps.Clamp(acc51, min, max));
        for (int m = 0; m < rows; m++)
        {
            float* o = output + (long)(p + m) * g.OutC + oc0;
            for (int j = first; j < valid; j++) o[j] = tile[m * nr + j];
        }
    }

    /// <summary>
    /// One pixel alone (a fully connected layer at batch 1, or a last remainder pixel): the 6-row tile would compute
    /// it six times, so this path keeps just its two vectors of channels, in four chains (even and odd input
    /// channels) so the FMA latency is not exposed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SinglePixel(float* input, float* output, int p, int nb, float* tile)
    {
        var g = Geometry;
        int b, y, x;
        TileOrigins.Fill(g, p, 1, 1, &b, &y, &x);
        float* w = _packed.Pointer + nb * _blockStride;
        float* zeros = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_zeros));
        int count = TOps.Count, nr = _nr, inC = g.InC;
        TV bias0 = TOps.Load(w), bias1 = TOps.Load(w + count);
        TV even0 = TOps.Broadcast(0f), even1 = even0, odd0 = even0, odd1 = even0;
        w += nr;
        for (int ky = 0; ky < g.KernelH; ky++)
        {
            for (int kx = 0; kx < g.KernelW; kx++)
            {
                float* a = Row(input, zeros, b, y + ky * g.DilationH, x + kx * g.DilationW);
                int ic = 0;
                for (; ic + 2 <= inC; ic += 2, w += 2 * nr)
                {
                    WeightPrefetch.Ahead(w, 2 * nr * sizeof(float));
                    TV v = TOps.Broadcast(a[ic]), u = TOps.Broadcast(a[ic + 1]);
                    even0 = TOps.MultiplyAdd(even0, v, TOps.Load(w));
                    even1 = TOps.MultiplyAdd(even1, v, TOps.Load(w + count));
                    odd0 = TOps.MultiplyAdd(odd0, u, TOps.Load(w + nr));
                    odd1 = TOps.MultiplyAdd(odd1, u, TOps.Load(w + nr + count));
                }
                if (ic < inC)
                {
                    TV v = TOps.Broadcast(a[ic]);
                    even0 = TOps.MultiplyAdd(even0, v, TOps.Load(w));
                    even1 = TOps.MultiplyAdd(even1, v, TOps.Load(w + count));
                    w += nr;
                }
            }
        }
        TV one = TOps.Broadcast(1f), min = TOps.Broadcast(_min), max = TOps.Broadcast(_max);
        TV acc0 = TOps.MultiplyAdd(bias0, TOps.MultiplyAdd(even0, odd0, one), one);
        TV acc1 = TOps.MultiplyAdd(bias1, TOps.MultiplyAdd(even1, odd1, one), one);
        TOps.Store(tile, TOps.Clamp(acc0, min, max));
        TOps.Store(tile + count, TOps.Clamp(acc1, min, max));
        int oc0 = nb * nr, valid = Math.Min(nr, g.OutC - oc0);
        float* o = output + (long)p * g.OutC + oc0;
        for (int j = 0; j < valid; j++) o[j] = tile[j];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float* Row(float* input, float* zeros, int b, int iy, int ix)
    {
        if ((uint)iy >= (uint)_inH || (uint)ix >= (uint)_inW) return zeros;
        return input + ((long)(b * _inH + iy) * _inW + ix) * _inC;
    }
}
