using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeMobileNet.Kernels.Dispatch;
using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Kernels.Simd;

/// <summary>
/// int8 convolution (depth multiplier 1) and fully connected layers on AVX2 as a GEMM: XNNPACK's qs8-gemm-6x16c2
/// arrangement over int16 activations. A chunk of output pixels' input rows is staged as int16 once, zero-padded to
/// an even depth: for pointwise layers (1x1, stride 1, unpadded) the input rows themselves, sign-extended; for any
/// other window an im2col row per pixel (taps x input channels, in the filter's order; padding taps hold the input
/// zero point, so they add (zp - zp) * w = 0). The tile then only loads: per pair of input channels, each of 6 pixels'
/// pair is one VPBROADCASTD from memory and 16 output channels' weight pairs are two loads, for 12 VPMADDWD +
/// 12 VPADDD. No horizontal reduction at the end, unlike a c16 layout, so small depths (32, 64) stay efficient.
/// Products are exact int16 x int16 (VPMADDWD cannot saturate on int8-range values), so the result is bit-exact
/// with the reference; the input zero point is folded into the bias (bias - zp * sum(w)).
/// Weights are packed at load per block of 16 output channels: [K/2 pairs x 16 channels x 2 int8], sign-extended to
/// int16 as they are loaded (VPMOVSXBW from memory): half the memory and weight bandwidth of an int16 copy, and
/// measured as fast or faster (late layers, whose weights stream from L3: 1.05 -> 0.83 ms for 7x7 1024 -> 1024).
/// </summary>
public sealed unsafe class Qs8GemmC2Avx2 : Qs8TiledGemmKernel
{
    private const int MR = Qs8GemmTiles.MR, NR = Qs8GemmTiles.NR, ChunkBytes = Qs8GemmTiles.ChunkBytes, MaxDepth = Qs8GemmTiles.MaxDepth;
    private readonly AlignedBuffer<sbyte> _weights; // int8, sign-extended as loaded: half the memory and bandwidth of int16
    private readonly AlignedBuffer<int> _bias;
    private readonly Qs8ChannelParams _requant;
    private readonly int _k, _evenK, _blocks, _blockStride, _chunkPixels;
    private readonly bool _pointwise;
    private readonly Qs8RoundingKind _rounding; // the shortest exact output rounding for these parameters
    private readonly short _inputZeroPoint;
    private readonly (int From, int To) _inside; // output columns whose window rows lie inside the input's width

    public static bool IsSupported => Avx2.IsSupported;

    /// <summary>Convolutions this kernel computes: depth multiplier 1, window x input channels up to 8192.</summary>
    public static bool Covers(in ConvGeometry g) =>
        g.DepthMultiplier == 1 && g.InC >= 1 && (long)g.KernelH * g.KernelW * g.InC <= MaxDepth;

    public Qs8GemmC2Avx2(in ConvGeometry g, int inputZeroPoint, Qs8OutputParams outputParams, ReadOnlySpan<sbyte> filter,
        ReadOnlySpan<int> bias)
        : base(g, g.IsPointwise ? $"Qs8Gemm_{MR}x{NR}c2_Avx2" : $"Qs8Im2colGemm_{MR}x{NR}c2_Avx2")
    {
        if (!Covers(g)) throw new ArgumentException($"{Name} computes convolutions of depth multiplier 1 with 1 to {MaxDepth} window values");
        _pointwise = g.IsPointwise;
        _inputZeroPoint = (short)inputZeroPoint;
        _k = g.KernelH * g.KernelW * g.InC;
        Qs8GemmTiles.CheckArguments(Name, g, _k, filter.Length, bias.Length, outputParams.Multipliers.Length);
        _evenK = (_k + 1) & ~1;
        _blocks = (g.OutC + NR - 1) / NR;
        _blockStride = _evenK * NR;
        _weights = new AlignedBuffer<sbyte>(_blocks * _blockStride);
        _bias = new AlignedBuffer<int>(_blocks * NR);
        var packedBias = _bias.Span;
        // Packing is on the start-up path (V1 1.0-224: 4.2M weights): one int32 pair word per store, no bounds checks.
        sbyte* packed = _weights.Pointer;
        fixed (sbyte* source = filter)
        {
            for (int oc = 0; oc < g.OutC; oc++)
            {
                sbyte* row = source + (long)oc * _k;
                // Channel oc's weights for input channels 2j, 2j+1 are byte pair j * 16 + oc % 16 of its block.
                short* column = (short*)(packed + (long)(oc / NR) * _blockStride) + oc % NR;
                int sum = 0, j = 0;
                for (; 2 * j + 1 < _k; j++)
                {
                    int w0 = row[2 * j], w1 = row[2 * j + 1];
                    column[j * NR] = (short)((byte)w0 | (w1 << 8));
                    sum += w0 + w1;
                }
                if ((_k & 1) != 0)
                {
                    column[j * NR] = (byte)row[_k - 1];
                    sum += row[_k - 1];
                }
                packedBias[oc] = unchecked((bias.IsEmpty ? 0 : bias[oc]) - inputZeroPoint * sum);
            }
        }
        _requant = new Qs8ChannelParams(outputParams, g.OutC, _blocks * NR);
        _rounding = Qs8RequantizeRight8.Choose(_requant, packedBias[..g.OutC], _k);
        _chunkPixels = Math.Clamp(ChunkBytes / (2 * _evenK), MR, 1024) / MR * MR;
        _inside = Im2colRows.InsideColumns(g);
    }

    [SkipLocalsInit]
    protected override void ComputeBlocks(ReadOnlySpan<sbyte> input, Span<sbyte> output, int p0, int p1, int nb0, int nb1)
    {
        // Bounded by ChunkBytes; the slack takes im2col's whole-vector widening past the last row's end.
        short* rowsSpace = stackalloc short[_chunkPixels * _evenK + 16 + CacheLine.Bytes / sizeof(short)];
        short* rows = CacheLine.Align(rowsSpace);
        int chunk = Qs8GemmTiles.BalancedChunk(p1 - p0, _chunkPixels);
        int* tileSpace = stackalloc int[MR * NR + CacheLine.Bytes / sizeof(int)];
        int* tile = CacheLine.Align(tileSpace);
        fixed (sbyte* inp = input)
        fixed (sbyte* outp = output)
        {
            for (int c0 = p0; c0 < p1; c0 += chunk)
            {
                int pixels = Math.Min(chunk, p1 - c0);
                if (_pointwise) Widen(inp + (long)c0 * _k, rows, pixels);
                else Im2col(inp, inp + input.Length, rows, c0, pixels);
                var tiles = new ChunkTiles(this, rows, outp + (long)c0 * Geometry.OutC, tile);
                Qs8GemmTiles.ForEachTile(ref tiles, pixels, nb0, nb1, _weights.Pointer, _blockStride);
            }
        }
    }

    private readonly struct ChunkTiles(Qs8GemmC2Avx2 kernel, short* rows, sbyte* output, int* tile) : IChunkTiles
    {
        public void Tile<TRows>(int first, int nb) where TRows : struct, IRowCount =>
            kernel.Tile<TRows>(rows + first * kernel._evenK, output + (long)first * kernel.Geometry.OutC, nb, tile);
    }

    /// <summary>Sign-extends <paramref name="pixels"/> rows of K int8 values into rows of even-K int16 values.</summary>
    private void Widen(sbyte* source, short* target, int pixels)
    {
        for (int p = 0; p < pixels; p++, source += _k, target += _evenK)
        {
            WidenRow(source, target, _k);
            if (_k != _evenK) target[_k] = 0;
        }
    }

    /// <summary>The im2col rows (int16, even K: the odd value 0) of output pixels [first, first + pixels).</summary>
    private void Im2col(sbyte* input, sbyte* inputEnd, short* target, int first, int pixels)
    {
        Im2colRows.Write(Geometry, input, target, _evenK, first, pixels, _inside, new WidenCopy(inputEnd, _inputZeroPoint));
        // After the rows: a row's overlapping last store may have run into this value.
        if (_k != _evenK) for (int p = 0; p < pixels; p++) target[(long)p * _evenK + _k] = 0;
    }

    /// <summary>
    /// Sign-extends input bytes into the int16 im2col rows, 16 at a time, the last 16 overlapping into values written
    /// later (the row's next run, or the scratch slack) as long as the load stays inside the input; padding is the
    /// input zero point.
    /// </summary>
    private readonly struct WidenCopy(sbyte* inputEnd, short zeroPoint) : IIm2colCopy<sbyte, short>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Copy(sbyte* source, short* target, int count)
        {
            int whole = count & ~15;
            if (whole == count || source + whole + 16 > inputEnd)
            {
                WidenRow(source, target, count);
                return;
            }
            for (int i = 0; i <= whole; i += 16) Avx.Store(target + i, Avx2.ConvertToVector256Int16(source + i));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Pad(short* target, int count) => new Span<short>(target, count).Fill(zeroPoint);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WidenRow(sbyte* source, short* target, int count)
    {
        int i = 0;
        for (; i + 16 <= count; i += 16) Avx.Store(target + i, Avx2.ConvertToVector256Int16(source + i));
        for (; i < count; i++) target[i] = source[i];
    }

    /// <summary>
    /// TRows (1 to 6) pixels at <paramref name="a"/> (int16 rows) x output channels [nb * 16, nb * 16 + 16); the row
    /// count is a type so each instantiation keeps exactly its accumulators in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Tile<TRows>(short* a, sbyte* output, int nb, int* tile) where TRows : struct, IRowCount
    {
        int rows = TRows.Count, stride = _evenK;
        sbyte* w = _weights.Pointer + (long)nb * _blockStride;
        int* bias = _bias.Pointer + nb * NR;
        var acc00 = Avx.LoadVector256(bias);
        var acc01 = Avx.LoadVector256(bias + 8);
        Vector256<int> acc10 = acc00, acc11 = acc01, acc20 = acc00, acc21 = acc01, acc30 = acc00, acc31 = acc01,
            acc40 = acc00, acc41 = acc01, acc50 = acc00, acc51 = acc01;
        Qs8GemmTiles.RowWords((byte*)a, 2 * stride, rows, out int* a0, out int* a1, out int* a2, out int* a3, out int* a4, out int* a5);
        for (int pair = 0, pairs = stride / 2; pair < pairs; pair++)
        {
            // One row (a batch-1 fully connected layer) passes over the weights once: fetch ahead of it (1 MB from
            // memory: 0.13 -> 0.11 ms).
            if (rows == 1) WeightPrefetch.Ahead(w, 2 * NR);
            var w0 = Avx2.ConvertToVector256Int16(w);
            var w1 = Avx2.ConvertToVector256Int16(w + NR);
            w += 2 * NR;
            var x = Vector256.Create(a0[pair]).AsInt16();
            acc00 = Avx2.Add(acc00, Avx2.MultiplyAddAdjacent(x, w0));
            acc01 = Avx2.Add(acc01, Avx2.MultiplyAddAdjacent(x, w1));
            if (rows > 1)
            {
                x = Vector256.Create(a1[pair]).AsInt16();
                acc10 = Avx2.Add(acc10, Avx2.MultiplyAddAdjacent(x, w0));
                acc11 = Avx2.Add(acc11, Avx2.MultiplyAddAdjacent(x, w1));
            }
            if (rows > 2)
            {
                x = Vector256.Create(a2[pair]).AsInt16();
                acc20 = Avx2.Add(acc20, Avx2.MultiplyAddAdjacent(x, w0));
                acc21 = Avx2.Add(acc21, Avx2.MultiplyAddAdjacent(x, w1));
            }
            if (rows > 3)
            {
                x = Vector256.Create(a3[pair]).AsInt16();
                acc30 = Avx2.Add(acc30, Avx2.MultiplyAddAdjacent(x, w0));
                acc31 = Avx2.Add(acc31, Avx2.MultiplyAddAdjacent(x, w1));
            }
            if (rows > 4)
            {
                x = Vector256.Create(a4[pair]).AsInt16();
                acc40 = Avx2.Add(acc40, Avx2.MultiplyAddAdjacent(x, w0));
                acc41 = Avx2.Add(acc41, Avx2.MultiplyAddAdjacent(x, w1));
            }
            if (rows > 5)
            {
                x = Vector256.Create(a5[pair]).AsInt16();
                acc50 = Avx2.Add(acc50, Avx2.MultiplyAddAdjacent(x, w0));
                acc51 = Avx2.Add(acc51, Avx2.MultiplyAddAdjacent(x, w1));
            }
        }

        if (Qs8GemmTiles.StoresFromRegisters(_rounding, Geometry.OutC, nb * NR))
        {
            Qs8GemmTiles.StoreClampedRowsFromRegisters(_requant, nb * NR, rows, output + nb * NR, Geometry.OutC,
                acc00, acc01, acc10, acc11, acc20, acc21, acc30, acc31, acc40, acc41, acc50, acc51);
            return;
        }
        // Otherwise through memory, so no accumulator's live range reaches the general output step's code (the JIT
        // spilled them inside the loop).
        Avx.Store(tile, acc00); Avx.Store(tile + 8, acc01);
        if (rows > 1) { Avx.Store(tile + 16, acc10); Avx.Store(tile + 24, acc11); }
        if (rows > 2) { Avx.Store(tile + 32, acc20); Avx.Store(tile + 40, acc21); }
        if (rows > 3) { Avx.Store(tile + 48, acc30); Avx.Store(tile + 56, acc31); }
        if (rows > 4) { Avx.Store(tile + 64, acc40); Avx.Store(tile + 72, acc41); }
        if (rows > 5) { Avx.Store(tile + 80, acc50); Avx.Store(tile + 88, acc51); }
        Qs8GemmTiles.StoreRows(_requant, _rounding, tile, output + nb * NR, rows, Geometry.OutC, nb * NR);
    }
}
/// <summary>A row count as a type, so a generic micro-kernel is compiled once per count with dead rows removed.</summary>
public interface IRowCount
{
    static abstract int Count { get; }
}

public readonly struct Rows1 : IRowCount { public static int Count => 1; }
public readonly struct Rows2 : IRowCount { public static int Count => 2; }
public readonly struct Rows3 : IRowCount { public static int Count => 3; }
public readonly struct Rows4 : IRowCount { public static int Count => 4; }
public readonly struct Rows5 : IRowCount { public static int Count => 5; }
public readonly struct Rows6 : IRowCount { public static int Count => 6; }
