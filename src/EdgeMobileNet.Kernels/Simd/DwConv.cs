using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EdgeMobileNet.Kernels.Dispatch;
using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Kernels.Simd;

/// <summary>
/// The indirection step both depthwise kernels share (XNNPACK's dwconv "indirection buffer", built per output
/// pixel instead of once): the window's input pointers in tap order, with padding taps pointing at a row that
/// contributes nothing (zeros for fp32, the input zero point for int8), so every pixel runs the same tap loop.
/// </summary>
internal static unsafe class DwWindow
{
    /// <summary>3x3 undilated windows: the shape the row sweeps compute.</summary>
    public static bool IsUndilated3x3(in ConvGeometry g) =>
        g.KernelH == 3 && g.KernelW == 3 && g.DilationH == 1 && g.DilationW == 1;

    /// <summary>Output columns [X0, X1) whose 3-wide window lies inside the input horizontally.</summary>
    public static (int X0, int X1) InteriorColumns(in ConvGeometry g)
    {
        int x0 = Math.Min((g.PadLeft + g.StrideW - 1) / g.StrideW, g.OutW);
        int x1 = Math.Clamp(g.InW - 3 + g.PadLeft < 0 ? 0 : (g.InW - 3 + g.PadLeft) / g.StrideW + 1, x0, g.OutW);
        return (x0, x1);
    }

    /// <summary>
    /// The three input rows of output row (b, oy)'s 3x3 window, each at the leftmost input pixel of output column
    /// <paramref name="x0"/>; rows in the vertical padding point into <paramref name="paddingRow"/> (an input row of
    /// the padding value).
    /// </summary>
    public static void SweepRows<T>(in ConvGeometry g, T* input, T* paddingRow, int b, int oy, int x0, out T* r0, out T* r1,
        out T* r2) where T : unmanaged
    {
        long rowElements = (long)g.InW * g.InC;
        T* image = input + b * g.InH * rowElements;
        int iy = oy * g.StrideH - g.PadTop;
        long column = ((long)x0 * g.StrideW - g.PadLeft) * g.InC;
        r0 = ((uint)iy < (uint)g.InH ? image + iy * rowElements : paddingRow) + column;
        r1 = ((uint)(iy + 1) < (uint)g.InH ? image + (iy + 1) * rowElements : paddingRow) + column;
        r2 = ((uint)(iy + 2) < (uint)g.InH ? image + (iy + 2) * rowElements : paddingRow) + column;
    }

    /// <summary>
    /// The input rows that output row (b, oy + 1)'s 3-row window reads and row (b, oy)'s does not, as one byte range
    /// (empty after the image's last output row): returns its length and sets <paramref name="start"/>.
    /// </summary>
    public static long NextRowsOnly(in ConvGeometry g, byte* input, int elementSize, int b, int oy, out byte* start)
    {
        start = null;
        if (oy + 1 >= g.OutH) return 0;
        int iy = oy * g.StrideH - g.PadTop;
        int first = Math.Max(Math.Max(iy + 3, iy + g.StrideH), 0), end = Math.Min(iy + g.StrideH + 3, g.InH);
        if (first >= end) return 0;
        long rowBytes = (long)g.InW * g.InC * elementSize;
        start = input + ((long)b * g.InH + first) * rowBytes;
        return (end - first) * rowBytes;
    }

    /// <summary>The arguments of an int8 depthwise kernel with depth multiplier 1 (filter [taps][channels]).</summary>
    public static void CheckQs8(in ConvGeometry g, Qs8OutputParams outputParams, int filterLength, int biasLength)
    {
        if (g.DepthMultiplier != 1 || g.OutC != g.InC) throw new ArgumentException("depth multiplier must be 1");
        long taps = (long)g.KernelH * g.KernelW;
        if (filterLength != taps * g.OutC) throw new ArgumentException($"filter has {filterLength} elements, expected {taps * g.OutC}");
        if (biasLength != 0 && biasLength != g.OutC) throw new ArgumentException($"bias has {biasLength} elements, expected {g.OutC}");
        if (outputParams.Multipliers.Length != 1 && outputParams.Multipliers.Length != g.OutC)
            throw new ArgumentException($"{outputParams.Multipliers.Length} multipliers for {g.OutC} output channels");
    }

    /// <summary>
    /// Packs an int8 depthwise filter ([taps][channels]) as [tap][<paramref name="padded"/> channels] of int8 or int16
    /// (the padding stays zero) and its bias with the input zero point folded in: bias - zp * sum of the channel's taps.
    /// </summary>
    public static void PackQs8<T>(in ConvGeometry g, ReadOnlySpan<sbyte> filter, ReadOnlySpan<int> bias, int inputZeroPoint,
        int padded, Span<T> weights, Span<int> packedBias) where T : unmanaged, IBinaryInteger<T>
    {
        int taps = g.KernelH * g.KernelW;
        for (int c = 0; c < g.OutC; c++)
        {
            int sum = 0;
            for (int t = 0; t < taps; t++)
            {
                sbyte w = filter[t * g.OutC + c];
                weights[t * padded + c] = T.CreateTruncating(w);
                sum += w;
            }
            packedBias[c] = unchecked((bias.IsEmpty ? 0 : bias[c]) - inputZeroPoint * sum);
        }
    }

    /// <summary>The row padding taps read: <paramref name="length"/> values of the input zero point, pinned.</summary>
    public static sbyte[] ZeroPointRow(int length, int inputZeroPoint)
    {
        var row = GC.AllocateArray<sbyte>(length, pinned: true);
        row.AsSpan().Fill((sbyte)inputZeroPoint);
        return row;
    }

    /// <summary>
    /// Every output pixel of rows [firstRow, firstRow + rowCount) of an int8 depthwise layer: its taps' input rows
    /// (<see cref="Fill"/>, padding taps reading <paramref name="padding"/>) handed to <paramref name="pixel"/> with the
    /// pixel's output. <paramref name="taps"/> holds at least the window's taps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ForEachQs8Pixel<TPixel>(in ConvGeometry g, sbyte* input, sbyte* output, byte* padding, int firstRow,
        int rowCount, byte** taps, ref TPixel pixel) where TPixel : struct, IQs8DwPixel
    {
        for (int row = firstRow; row < firstRow + rowCount; row++)
        {
            int b = row / g.OutH, oy = row - b * g.OutH;
            for (int ox = 0; ox < g.OutW; ox++)
            {
                Fill(g, (byte*)input, 1, padding, b, oy, ox, taps);
                pixel.Compute((sbyte**)taps, output + ((long)row * g.OutW + ox) * g.OutC);
            }
        }
    }

    /// <summary>
    /// The last partial step of channels [c, c + rest): each of <paramref name="tapCount"/> tap rows copied into a
    /// zero-padded <paramref name="width"/>-byte row of <paramref name="scratch"/>, and copies[t] set so that
    /// copies[t] + c is tap t's copy. The step then reads the copies as it reads the input, and no load runs past a row.
    /// </summary>
    public static void CopyTailRows(sbyte** taps, int tapCount, int c, int rest, int width, sbyte* scratch, sbyte** copies)
    {
        new Span<sbyte>(scratch, tapCount * width).Clear();
        for (int t = 0; t < tapCount; t++)
        {
            Buffer.MemoryCopy(taps[t] + c, scratch + t * width, width, rest);
            copies[t] = scratch + t * width - c;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Fill(in ConvGeometry g, byte* input, int elementSize, byte* padding, int b, int oy, int ox, byte** taps)
    {
        int iy0 = oy * g.StrideH - g.PadTop, ix0 = ox * g.StrideW - g.PadLeft;
        long rowBytes = (long)g.InW * g.InC * elementSize, pixelBytes = (long)g.InC * elementSize;
        byte* image = input + (long)b * g.InH * rowBytes;
        int t = 0;
        for (int ky = 0; ky < g.KernelH; ky++)
        {
            int iy = iy0 + ky * g.DilationH;
            bool rowInside = (uint)iy < (uint)g.InH;
            byte* row = image + iy * rowBytes;
            for (int kx = 0; kx < g.KernelW; kx++)
            {
                int ix = ix0 + kx * g.DilationW;
                taps[t++] = rowInside && (uint)ix < (uint)g.InW ? row + ix * pixelBytes : padding;
            }
        }
    }
}

/// <summary>
/// fp32 depthwise convolution (depth multiplier 1, any window, stride, dilation and padding). Per output pixel
/// the window's tap pointers are gathered once (<see cref="DwWindow"/>); channels then go four vectors at a time
/// (four independent accumulator chains hide the add latency), then one vector, then scalar. Weights are packed
/// [bias][taps][channels padded to the vector]; the bias is added after the taps, in the reference's order, and
/// the clamp is fused.
/// </summary>
public sealed unsafe class F32DwConv<TOps, TV> : F32ConvolutionKernel
    where TOps : struct, IF32Ops<TV>
    where TV : struct
{
    private readonly AlignedBuffer<float> _packed;
    private readonly float[] _zeros;
    private readonly int _padded, _taps;
    private readonly float _min, _max;
    // 3x3 undilated windows sweep the interior output columns [_x0, _x1) of each row (whose windows lie inside
    // horizontally; a zero input row stands for vertical padding), in pairs of pixels or one channel vector at a
    // time (see the constructor); the rest go through Pixels.
    private readonly RowSweep _sweep;
    private readonly int _x0, _x1;
    private readonly float[] _zeroRow = [];
    // Inputs larger than L2 (1 MB per image) stream from L3 or memory while a row sweep computes, so each sweep
    // prefetches into L2 the input rows the next output row adds (RowPrefetch, x64). In-model, sessions in turn, 1
    // thread: V1 1.0-224 fp32 112x112x64 s2 0.43 -> 0.28 ms, 112x112x32 s1 and 56x56x128 s1 1.07x, V2 112x112x96 s2
    // 1.18-1.22x; whole V1 1.03x, V2 1.01-1.02x. Layers with smaller inputs (in cache already) lost up to 6 % to the
    // prefetch instructions, so they go without.
    private readonly bool _prefetchRows;

    public F32DwConv(in ConvGeometry g, ReadOnlySpan<float> filter, ReadOnlySpan<float> bias, float outputMin, float outputMax)
        : base(g, $"F32DwConv{g.KernelH}x{g.KernelW}_{4 * TOps.Count}c_{TOps.Isa}")
    {
        if (g.DepthMultiplier != 1 || g.OutC != g.InC) throw new ArgumentException("depth multiplier must be 1");
        _taps = g.KernelH * g.KernelW;
        if (filter.Length != (long)_taps * g.OutC) throw new ArgumentException($"filter has {filter.Length} elements, expected {(long)_taps * g.OutC}");
        if (!bias.IsEmpty && bias.Length != g.OutC) throw new ArgumentException($"bias has {bias.Length} elements, expected {g.OutC}");
        _padded = (g.OutC + TOps.Count - 1) / TOps.Count * TOps.Count;
        _packed = new AlignedBuffer<float>((_taps + 1) * _padded);
        var packed = _packed.Span;
        for (int c = 0; c < g.OutC; c++)
        {
            packed[c] = bias.IsEmpty ? 0f : bias[c];
            for (int t = 0; t < _taps; t++) packed[(t + 1) * _padded + c] = filter[t * g.OutC + c];
        }
        _zeros = GC.AllocateArray<float>(_padded, pinned: true);
        _min = outputMin;
        _max = outputMax;
        // How rows go, measured on x64 (AVX2) in V1 1.0-224, V2 1.0-224 and V1 0.25-128 fp32, one process, in turn:
        // - pairs of output pixels across all channels, four vectors at a time (SweepRowPairs: each weight load
        //   serves two pixels, each input line is read once per output row), for 4 vectors of channels or more:
        //   against the former choice (a vector at a time across the row, or lone pixels) 112x112x32 1.22-1.29x,
        //   112x112x64 s2 1.18-1.21x, 56x56x128 s1 1.16-1.34x, 56x56x128 s2 1.15-1.24x, 28x28x256 1.06-1.12x,
        //   V2 112x112x96 s2 1.09-1.21x, 28x28x192 1.12-1.28x; whole models 1.01-1.03x;
        // - but stride-1 rows of at most 14 pixels over 256 channels or more go through Pixels in pairs: the sweep's
        //   lone edge pixels cost more there than its row walk saves (14x14x512 0.94-1.01x swept, 7x7x1024
        //   0.86-0.87x, V2 7x7x960 0.92-0.94x);
        // - fewer than 4 vectors of channels sweep one vector at a time across rows of more than 14 pixels, four
        //   pixels as four chains (SweepRow; pairs have too few chains to hide the FMA latency: V1 0.25-128's
        //   64x64x8 0.44x, 64x64x16 s2 0.80x as pairs), shorter rows go through Pixels.
        // (The ARM paths follow the same rule unmeasured.)
        int n = TOps.Count;
        _sweep = !DwWindow.IsUndilated3x3(g) || g.InC < n ? RowSweep.None
            : g.InC < 4 * n ? (g.OutW > 14 ? RowSweep.VectorAtATime : RowSweep.None)
            : g.StrideW == 1 && g.OutW <= 14 && g.InC >= 256 ? RowSweep.None
            : RowSweep.Pairs;
        if (_sweep != RowSweep.None)
        {
            (_x0, _x1) = DwWindow.InteriorColumns(g);
            _prefetchRows = (long)g.InH * g.InW * g.InC * sizeof(float) >= 1 << 20;
            _zeroRow = GC.AllocateArray<float>(g.InW * g.InC, pinned: true);
        }
    }

    public override void Run(ReadOnlySpan<float> input, Span<float> output, int firstRow, int rowCount)
    {
        CheckRun(input.Length, output.Length, firstRow, rowCount);
        var g = Geometry;
        byte** taps = stackalloc byte*[2 * _taps];
        byte** nextTaps = taps + _taps;
        fixed (float* inp = input)
        fixed (float* outp = output)
        {
            byte* zeros = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_zeros));
            bool sweep = _sweep != RowSweep.None;
            int x0 = sweep ? _x0 : g.OutW, x1 = sweep ? _x1 : g.OutW;
            for (int row = firstRow; row < firstRow + rowCount; row++)
            {
                int b = row / g.OutH, oy = row - b * g.OutH;
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    if (ox == x0)
                    {
                        if (x0 < x1)
                        {
                            if (_sweep == RowSweep.Pairs) SweepRowPairs(inp, outp + (long)row * g.OutW * g.OutC, b, oy);
                            else SweepRow(inp, outp + (long)row * g.OutW * g.OutC, b, oy);
                        }
                        ox = x1;
                        if (ox == g.OutW) break;
                    }
                    float* o = outp + ((long)row * g.OutW + ox) * g.OutC;
                    DwWindow.Fill(g, (byte*)inp, sizeof(float), zeros, b, oy, ox, taps);
                    if (sweep || ox + 1 == g.OutW)
                    {
                        Pixels<Rows1>((float**)taps, (float**)taps, o);
                        continue;
                    }
                    DwWindow.Fill(g, (byte*)inp, sizeof(float), zeros, b, oy, ++ox, nextTaps);
                    Pixels<Rows2>((float**)taps, (float**)nextTaps, o);
                }
            }
        }
    }

    /// <summary>
    /// Output columns [_x0, _x1) of one row of a 3x3 undilated window, one channel vector at a time across the row:
    /// that vector's nine weights stay in registers and four output pixels are four independent accumulator chains.
    /// Taps are summed in the reference's order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SweepRow(float* input, float* output, int b, int oy)
    {
        var g = Geometry;
        int channels = g.OutC, padded = _padded, n = TOps.Count, stride = g.StrideW, x0 = _x0, x1 = _x1;
        float* bias = _packed.Pointer;
        float* weights = bias + padded;
        float* zeroRow = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_zeroRow));
        DwWindow.SweepRows(g, input, zeroRow, b, oy, x0, out float* r0, out float* r1, out float* r2);
        output += (long)x0 * channels;
        TV min = TOps.Broadcast(_min), max = TOps.Broadcast(_max), one = TOps.Broadcast(1f);
        nint step = (nint)stride * channels;
        int groups = PrefetchNextRows(input, b, oy, channels / n * ((x1 - x0) / 4), out byte* next, out byte* nextEnd);
        int c = 0;
        for (; c + n <= channels; c += n)
        {
            float* w = weights + c;
            TV w0 = TOps.Load(w), w1 = TOps.Load(w + padded), w2 = TOps.Load(w + 2 * padded);
            TV w3 = TOps.Load(w + 3 * padded), w4 = TOps.Load(w + 4 * padded), w5 = TOps.Load(w + 5 * padded);
            TV w6 = TOps.Load(w + 6 * padded), w7 = TOps.Load(w + 7 * padded), w8 = TOps.Load(w + 8 * padded);
            TV bv = TOps.Load(bias + c);
            float* p0 = r0 + c, p1 = r1 + c, p2 = r2 + c, o = output + c;
            int ox = x0;
            for (; ox + 4 <= x1; ox += 4, p0 += 4 * step, p1 += 4 * step, p2 += 4 * step, o += 4 * channels)
            {
                RowPrefetch.Step(ref next, nextEnd, groups);
                TV a0 = Window(p0, p1, p2, channels, w0, w1, w2, w3, w4, w5, w6, w7, w8);
                TV a1 = Window(p0 + step, p1 + step, p2 + step, channels, w0, w1, w2, w3, w4, w5, w6, w7, w8);
                TV a2 = Window(p0 + 2 * step, p1 + 2 * step, p2 + 2 * step, channels, w0, w1, w2, w3, w4, w5, w6, w7, w8);
                TV a3 = Window(p0 + 3 * step, p1 + 3 * step, p2 + 3 * step, channels, w0, w1, w2, w3, w4, w5, w6, w7, w8);
                TOps.Store(o, TOps.Clamp(TOps.MultiplyAdd(bv, a0, one), min, max));
                TOps.Store(o + channels, TOps.Clamp(TOps.MultiplyAdd(bv, a1, one), min, max));
                TOps.Store(o + 2 * channels, TOps.Clamp(TOps.MultiplyAdd(bv, a2, one), min, max));
                TOps.Store(o + 3 * channels, TOps.Clamp(TOps.MultiplyAdd(bv, a3, one), min, max));
            }
            for (; ox < x1; ox++, p0 += step, p1 += step, p2 += step, o += channels)
                TOps.Store(o, TOps.Clamp(TOps.MultiplyAdd(bv, Window(p0, p1, p2, channels, w0, w1, w2, w3, w4, w5, w6, w7, w8), one), min, max));
        }
        if (c == channels) return;
        // Channels after the last whole vector: scalar, through the same row pointers.
        float** taps = stackalloc float*[9];
        for (int ox = x0; ox < x1; ox++)
        {
            long offset = (long)(ox - x0) * step;
            for (int kx = 0; kx < 3; kx++)
            {
                taps[kx] = r0 + offset + kx * channels;
                taps[3 + kx] = r1 + offset + kx * channels;
                taps[6 + kx] = r2 + offset + kx * channels;
            }
            for (int cc = c; cc < channels; cc++) output[(long)(ox - x0) * channels + cc] = ScalarChannel(taps, cc);
        }
    }

    /// <summary>
    /// The byte range of the input rows output row (b, oy + 1) adds, to prefetch over a sweep of
    /// <paramref name="steps"/> steps (<see cref="RowPrefetch"/>; empty unless the input is large): returns the
    /// groups of lines per step.
    /// </summary>
    private int PrefetchNextRows(float* input, int b, int oy, int steps, out byte* next, out byte* end)
    {
        next = null;
        long bytes = _prefetchRows ? DwWindow.NextRowsOnly(Geometry, (byte*)input, sizeof(float), b, oy, out next) : 0;
        end = next + bytes;
        return RowPrefetch.GroupsPerStep(bytes, steps);
    }

    /// <summary>
    /// Output columns [_x0, _x1) of one row of a 3x3 undilated window, two neighbouring pixels at a time across all
    /// channels (four vectors at a time, then the 1-3 left, then single channels), so each weight load serves both
    /// pixels and each input line is read once per output row. An odd last pixel computes alone.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SweepRowPairs(float* input, float* output, int b, int oy)
    {
        var g = Geometry;
        int channels = g.OutC, n = TOps.Count, stride = g.StrideW, x0 = _x0, x1 = _x1;
        float* zeroRow = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_zeroRow));
        DwWindow.SweepRows(g, input, zeroRow, b, oy, x0, out float* r0, out float* r1, out float* r2);
        output += (long)x0 * channels;
        nint step = (nint)stride * channels;
        int groups = PrefetchNextRows(input, b, oy, (x1 - x0 + 1) / 2, out byte* next, out byte* nextEnd);
        float** taps = stackalloc float*[18];
        int vectorEnd = channels / n * n;
        for (int ox = x0; ox < x1; ox += 2)
        {
            RowPrefetch.Step(ref next, nextEnd, groups);
            // The second pixel of a pair; a last lone pixel computes its own window twice (reads stay inside the rows).
            nint second = ox + 1 < x1 ? step : 0;
            nint offset = (ox - x0) * step;
            float* p0 = r0 + offset, p1 = r1 + offset, p2 = r2 + offset, o = output + (ox - x0) * (nint)channels;
            int c = 0;
            for (; c + 4 * n <= channels; c += 4 * n) PairVectors<Rows4>(p0 + c, p1 + c, p2 + c, channels, second, o + c, c);
            switch ((vectorEnd - c) / n)
            {
                case 1: PairVectors<Rows1>(p0 + c, p1 + c, p2 + c, channels, second, o + c, c); break;
                case 2: PairVectors<Rows2>(p0 + c, p1 + c, p2 + c, channels, second, o + c, c); break;
                case 3: PairVectors<Rows3>(p0 + c, p1 + c, p2 + c, channels, second, o + c, c); break;
            }
            if (vectorEnd == channels) continue;
            for (int pixel = 0; pixel < (second == 0 ? 1 : 2); pixel++)
            {
                nint at = pixel * step;
                for (int kx = 0; kx < 3; kx++)
                {
                    taps[kx] = p0 + at + kx * channels;
                    taps[3 + kx] = p1 + at + kx * channels;
                    taps[6 + kx] = p2 + at + kx * channels;
                }
                for (int cc = vectorEnd; cc < channels; cc++) o[pixel * channels + cc] = ScalarChannel(taps, cc);
            }
        }
    }

    /// <summary>
    /// TVectors (1 to 4) channel vectors from channel <paramref name="c"/> of two neighbouring output pixels (the
    /// second's window <paramref name="second"/> floats on; 0: a lone pixel, stored once): each weight vector loaded
    /// once per tap for both, the taps summed in the reference's order, bias added last.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PairVectors<TVectors>(float* p0, float* p1, float* p2, nint channels, nint second, float* o, int c)
        where TVectors : struct, IRowCount
    {
        int padded = _padded;
        float* bias = _packed.Pointer;
        float* w = bias + padded + c;
        TV a0 = TOps.Broadcast(0f), a1 = a0, a2 = a0, a3 = a0, e0 = a0, e1 = a0, e2 = a0, e3 = a0;
        for (int ky = 0; ky < 3; ky++)
        {
            float* x = ky == 0 ? p0 : ky == 1 ? p1 : p2;
            for (int kx = 0; kx < 3; kx++, x += channels, w += padded)
                Tap<TVectors, Rows2>(x, x + second, w, ref a0, ref a1, ref a2, ref a3, ref e0, ref e1, ref e2, ref e3);
        }
        TV min = TOps.Broadcast(_min), max = TOps.Broadcast(_max), one = TOps.Broadcast(1f);
        float* bc = bias + c;
        StoreVectors<TVectors>(o, bc, a0, a1, a2, a3, one, min, max);
        if (second != 0) StoreVectors<TVectors>(o + channels, bc, e0, e1, e2, e3, one, min, max);
    }

    /// <summary>Bias (added last, as the reference does), clamp and store of TVectors channel vectors of one pixel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreVectors<TVectors>(float* o, float* bias, TV a0, TV a1, TV a2, TV a3, TV one, TV min, TV max)
        where TVectors : struct, IRowCount
    {
        int count = TVectors.Count, n = TOps.Count;
        TOps.Store(o, TOps.Clamp(TOps.MultiplyAdd(TOps.Load(bias), a0, one), min, max));
        if (count > 1) TOps.Store(o + n, TOps.Clamp(TOps.MultiplyAdd(TOps.Load(bias + n), a1, one), min, max));
        if (count > 2) TOps.Store(o + 2 * n, TOps.Clamp(TOps.MultiplyAdd(TOps.Load(bias + 2 * n), a2, one), min, max));
        if (count > 3) TOps.Store(o + 3 * n, TOps.Clamp(TOps.MultiplyAdd(TOps.Load(bias + 3 * n), a3, one), min, max));
    }

    /// <summary>How a 3x3 undilated layer's rows go: not swept (every pixel through Pixels), or swept.</summary>
    private enum RowSweep { None, VectorAtATime, Pairs }

    /// <summary>One pixel's 3x3 window sum for one channel vector: rows at p0, p1, p2, columns <paramref name="channels"/> apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Window(float* p0, float* p1, float* p2, nint channels, TV w0, TV w1, TV w2, TV w3, TV w4, TV w5,
        TV w6, TV w7, TV w8)
    {
        TV a = TOps.MultiplyAdd(TOps.Broadcast(0f), TOps.Load(p0), w0);
        a = TOps.MultiplyAdd(a, TOps.Load(p0 + channels), w1);
        a = TOps.MultiplyAdd(a, TOps.Load(p0 + 2 * channels), w2);
        a = TOps.MultiplyAdd(a, TOps.Load(p1), w3);
        a = TOps.MultiplyAdd(a, TOps.Load(p1 + channels), w4);
        a = TOps.MultiplyAdd(a, TOps.Load(p1 + 2 * channels), w5);
        a = TOps.MultiplyAdd(a, TOps.Load(p2), w6);
        a = TOps.MultiplyAdd(a, TOps.Load(p2 + channels), w7);
        return TOps.MultiplyAdd(a, TOps.Load(p2 + 2 * channels), w8);
    }

    /// <summary>
    /// One output pixel's channels (<typeparamref name="TPixels"/> = <see cref="Rows1"/>), or two neighbours' with
    /// each weight load serving both (<see cref="Rows2"/>; <paramref name="output"/> then holds both pixels). Layers
    /// that do not sweep (see the rule in the constructor) run in pairs: a lone pixel loads two vectors per
    /// multiply-add, a pair one and a half. In V1 1.0-224 fp32 at 1 thread, one process, lone pixels and pairs in
    /// turn: 14x14x512 s1 0.110-0.116 -> 0.085-0.089 ms, 28x28x256 s1 0.20 -> 0.17, 7x7x1024 0.078-0.080 ->
    /// 0.061-0.063; the whole model 1.01x.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Pixels<TPixels>(float** taps, float** secondTaps, float* output) where TPixels : struct, IRowCount
    {
        bool pair = TPixels.Count == 2;
        int channels = Geometry.OutC, padded = _padded, tapCount = _taps, n = TOps.Count;
        float* bias = _packed.Pointer;
        float* weights = bias + padded;
        float* second = output + channels;
        TV min = TOps.Broadcast(_min), max = TOps.Broadcast(_max), one = TOps.Broadcast(1f);
        int c = 0;
        for (; c + 4 * n <= channels; c += 4 * n)
        {
            TV a0 = TOps.Broadcast(0f), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            float* w = weights + c;
            for (int t = 0; t < tapCount; t++, w += padded)
                Tap<Rows4, TPixels>(taps[t] + c, secondTaps[t] + c, w, ref a0, ref a1, ref a2, ref a3, ref b0, ref b1, ref b2, ref b3);
            StoreVectors<Rows4>(output + c, bias + c, a0, a1, a2, a3, one, min, max);
            if (pair) StoreVectors<Rows4>(second + c, bias + c, b0, b1, b2, b3, one, min, max);
        }
        for (; c + n <= channels; c += n)
        {
            TV a = TOps.Broadcast(0f), b = a, unused = a;
            float* w = weights + c;
            for (int t = 0; t < tapCount; t++, w += padded)
                Tap<Rows1, TPixels>(taps[t] + c, secondTaps[t] + c, w, ref a, ref unused, ref unused, ref unused, ref b, ref unused, ref unused, ref unused);
            StoreVectors<Rows1>(output + c, bias + c, a, a, a, a, one, min, max);
            if (pair) StoreVectors<Rows1>(second + c, bias + c, b, b, b, b, one, min, max);
        }
        for (; c < channels; c++)
        {
            output[c] = ScalarChannel(taps, c);
            if (pair) second[c] = ScalarChannel(secondTaps, c);
        }
    }

    /// <summary>
    /// One tap of TVectors (1 to 4) channel vectors: the weight vectors at <paramref name="w"/> times the first
    /// pixel's inputs at <paramref name="x"/> into a0..a3 and, for TPixels = 2, the second pixel's at
    /// <paramref name="y"/> into e0..e3, each weight load serving both.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tap<TVectors, TPixels>(float* x, float* y, float* w, ref TV a0, ref TV a1, ref TV a2, ref TV a3,
        ref TV e0, ref TV e1, ref TV e2, ref TV e3) where TVectors : struct, IRowCount where TPixels : struct, IRowCount
    {
        int count = TVectors.Count, n = TOps.Count;
        bool pair = TPixels.Count == 2;
        TV w0 = TOps.Load(w);
        TV w1 = count > 1 ? TOps.Load(w + n) : w0, w2 = count > 2 ? TOps.Load(w + 2 * n) : w0, w3 = count > 3 ? TOps.Load(w + 3 * n) : w0;
        a0 = TOps.MultiplyAdd(a0, TOps.Load(x), w0);
        if (count > 1) a1 = TOps.MultiplyAdd(a1, TOps.Load(x + n), w1);
        if (count > 2) a2 = TOps.MultiplyAdd(a2, TOps.Load(x + 2 * n), w2);
        if (count > 3) a3 = TOps.MultiplyAdd(a3, TOps.Load(x + 3 * n), w3);
        if (!pair) return;
        e0 = TOps.MultiplyAdd(e0, TOps.Load(y), w0);
        if (count > 1) e1 = TOps.MultiplyAdd(e1, TOps.Load(y + n), w1);
        if (count > 2) e2 = TOps.MultiplyAdd(e2, TOps.Load(y + 2 * n), w2);
        if (count > 3) e3 = TOps.MultiplyAdd(e3, TOps.Load(y + 3 * n), w3);
    }

    /// <summary>One channel of one pixel (tap pointers at the pixel's channel 0), for channels after the last whole vector.</summary>
    private float ScalarChannel(float** taps, int c)
    {
        float* bias = _packed.Pointer;
        float* weights = bias + _padded;
        float a = 0f;
        for (int t = 0; t < _taps; t++) a += taps[t][c] * weights[t * _padded + c];
        return Math.Clamp(a + bias[c], _min, _max);
    }
}

/// <summary>
/// The int8 depthwise multiply-accumulate step of one ISA: <see cref="Channels"/> int8 inputs sign-extended to
/// int16 and multiplied by int16 weights (an int8 x int8 product always fits int16, so it is exact), then the
/// products' lower and upper halves widened into two int32 accumulators. Values, not refs, so the JIT keeps the
/// accumulators in registers.
/// </summary>
public unsafe interface IQs8DwOps<TAcc, TProduct> where TAcc : struct where TProduct : struct
{
    static abstract string Isa { get; }
    static abstract int Channels { get; }
    static abstract TAcc Load(int* p);
    static abstract void Store(int* p, TAcc v);
    static abstract TProduct Multiply(sbyte* input, short* weights);
    static abstract TAcc AddLower(TAcc acc, TProduct product);
    static abstract TAcc AddUpper(TAcc acc, TProduct product);
    /// <summary>True where the output step may requantize eight channels at a time with AVX2 (abstract: see <see cref="IQs8Dot{TSelf, TV}.WideRequantize"/>).</summary>
    static abstract bool WideRequantize { get; }
}

/// <summary>One output pixel of an int8 depthwise kernel, given its taps' input rows (<see cref="DwWindow.ForEachQs8Pixel"/>).</summary>
internal unsafe interface IQs8DwPixel
{
    void Compute(sbyte** taps, sbyte* output);
}

/// <summary>
/// int8 depthwise convolution (depth multiplier 1, any window). The input zero point is folded into the packed
/// bias (bias - zp * sum of the channel's taps) and padding taps read a row filled with the zero point, so they
/// add (zp - zp) * w = 0 just as the reference skips them; every pixel then runs the same tap loop
/// (<see cref="DwWindow"/>). Weights are widened to int16 once at load, [taps][channels padded to the step].
/// The last partial step gathers its channels into a zero-padded scratch so no load reads past a row.
/// Requantization through <see cref="Qs8Requantizer"/> (bit-exact with the reference).
/// </summary>
public sealed unsafe class Qs8DwConv<TOps, TAcc, TProduct> : Qs8ConvolutionKernel
    where TOps : struct, IQs8DwOps<TAcc, TProduct>
    where TAcc : struct
    where TProduct : struct
{
    private readonly AlignedBuffer<short> _weights;
    private readonly AlignedBuffer<int> _bias;
    private readonly sbyte[] _padding;
    private readonly Qs8ChannelParams _requant;
    private readonly int _padded, _taps;

    public Qs8DwConv(in ConvGeometry g, int inputZeroPoint, Qs8OutputParams outputParams, ReadOnlySpan<sbyte> filter,
        ReadOnlySpan<int> bias)
        : base(g, $"Qs8DwConv{g.KernelH}x{g.KernelW}_{TOps.Channels}c_{TOps.Isa}")
    {
        DwWindow.CheckQs8(g, outputParams, filter.Length, bias.Length);
        _taps = g.KernelH * g.KernelW;
        _padded = (g.OutC + TOps.Channels - 1) / TOps.Channels * TOps.Channels;
        _weights = new AlignedBuffer<short>(_taps * _padded);
        _bias = new AlignedBuffer<int>(_padded);
        DwWindow.PackQs8(g, filter, bias, inputZeroPoint, _padded, _weights.Span, _bias.Span);
        _padding = DwWindow.ZeroPointRow(_padded, inputZeroPoint);
        _requant = new Qs8ChannelParams(outputParams, g.OutC, _padded);
    }

    public override void Run(ReadOnlySpan<sbyte> input, Span<sbyte> output, int firstRow, int rowCount)
    {
        CheckRun(input.Length, output.Length, firstRow, rowCount);
        byte** taps = stackalloc byte*[_taps];
        sbyte** copies = stackalloc sbyte*[_taps];
        int* acc = stackalloc int[TOps.Channels];
        sbyte* scratch = stackalloc sbyte[_taps * TOps.Channels];
        fixed (sbyte* inp = input)
        fixed (sbyte* outp = output)
        {
            byte* padding = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_padding));
            var pixels = new Pixels(this, acc, scratch, copies);
            DwWindow.ForEachQs8Pixel(Geometry, inp, outp, padding, firstRow, rowCount, taps, ref pixels);
        }
    }

    private readonly struct Pixels(Qs8DwConv<TOps, TAcc, TProduct> kernel, int* acc, sbyte* scratch, sbyte** copies) : IQs8DwPixel
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Compute(sbyte** taps, sbyte* output) => kernel.Pixel(taps, output, acc, scratch, copies);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Pixel(sbyte** taps, sbyte* output, int* acc, sbyte* scratch, sbyte** copies)
    {
        int channels = Geometry.OutC, n = TOps.Channels, c = 0;
        for (; c + n <= channels; c += n) Step(taps, c, output, acc, n);
        if (c < channels)
        {
            DwWindow.CopyTailRows(taps, _taps, c, channels - c, n, scratch, copies);
            Step(copies, c, output, acc, channels - c);
        }
    }

    /// <summary>Channels [c, c + count) of one pixel (count up to a step); tap t's values at taps[t] + c.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Step(sbyte** taps, int c, sbyte* output, int* acc, int count)
    {
        int padded = _padded, tapCount = _taps, half = TOps.Channels / 2;
        TAcc lower = TOps.Load(_bias.Pointer + c), upper = TOps.Load(_bias.Pointer + c + half);
        short* w = _weights.Pointer + c;
        for (int t = 0; t < tapCount; t++, w += padded)
        {
            var product = TOps.Multiply(taps[t] + c, w);
            lower = TOps.AddLower(lower, product);
            upper = TOps.AddUpper(upper, product);
        }
        TOps.Store(acc, lower);
        TOps.Store(acc + half, upper);
        Qs8Requantizer.Row(acc, output + c, count, _requant, c, TOps.WideRequantize);
    }
}
