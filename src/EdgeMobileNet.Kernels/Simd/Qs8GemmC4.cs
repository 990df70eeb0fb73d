using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeMobileNet.Kernels.Dispatch;
using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Kernels.Simd;

/// <summary>
/// int8 pointwise convolution (and fully connected layers) as a GEMM over unsigned activation bytes u = x + 128 and
/// signed weight bytes, four input channels per int32 lane: one algorithm, the quad multiply-add supplied by
/// <typeparamref name="TStep"/> (<see cref="Qs8QuadStepAvx2"/>, <see cref="Qs8QuadStepAvxVnni"/>).
/// With VPDPBUSD (AVX-VNNI) the four products add straight into int32 and the kernel is exact on any input. With AVX2's
/// VPMADDUBSW (unsigned x signed bytes, adjacent pairs summed into int16, as ONNX Runtime's u8s8 kernel computes) a
/// pair of products reaches 255 x -128 x 2 and would saturate. But a pair whose two activations sum
/// to at most 256 cannot saturate with any int8 weights (127 x 256 = 32512, -128 x 256 = -32768). So for that step the
/// staged rows hold each pair (u0, u1) with u1 lowered by the excess e = max(0, u0 + u1 - 256), and the excess is added back
/// exactly: as entries (pixel, input channel, e) in pixel order, each adding e x that channel's weights in the output step,
/// or, for a chunk with more than one entry per <see cref="DenseEvery"/> values, by running the tile a second time over
/// rows of the excesses alone (pairs (0, e), e at most 254: safe). After a ReLU at zero point -128 most activations
/// are small and such pairs are rare: the lists stay short.
/// The tile: per quad of input channels one VPBROADCASTD per pixel, two weight loads, and per pixel and half
/// one quad step: VPMADDUBSW + VPMADDWD (by ones, into int32) + VPADDD, 3 vector operations per 32 multiply-adds
/// against the int16 kernel's 4 (<see cref="Qs8GemmC2Avx2"/>), or one VPDPBUSD. The input zero point and the 128 are
/// folded into the bias (bias - (zp + 128) x sum(w)). Weights are packed per block of 16 output channels as [K/4 quads
/// x 16 channels x 4 int8], K padded to a multiple of 4 with zeros (so the rows' padding values multiply zeros).
/// </summary>
public sealed unsafe class Qs8GemmC4<TStep> : Qs8TiledGemmKernel where TStep : struct, IQs8QuadStep
{
    private const int MR = Qs8GemmTiles.MR, NR = Qs8GemmTiles.NR, ChunkBytes = Qs8GemmTiles.ChunkBytes, MaxDepth = Qs8GemmTiles.MaxDepth;
    /// <summary>A chunk keeps per-pixel excess lists while they hold at most one entry per this many values.</summary>
    private const int DenseEvery = 16;
    // An excess entry: pixel in the chunk (at most 1024) << PixelBit | input channel (below MaxDepth) << 8 | excess.
    private const int PixelBit = 21;
    private readonly AlignedBuffer<sbyte> _weights;
    private readonly AlignedBuffer<int> _bias;
    private readonly Qs8ChannelParams _requant;
    private readonly int _k, _k4, _blocks, _blockStride, _chunkPixels;
    private readonly Qs8RoundingKind _rounding; // the shortest exact output rounding for these parameters

    public static bool IsSupported => TStep.IsSupported;

    /// <summary>Pointwise convolutions (1x1, stride 1, unpadded) of 1 to 8192 input channels.</summary>
    public static bool Covers(in ConvGeometry g) => g.IsPointwise && g.DepthMultiplier == 1 && g.InC >= 1 && g.InC <= MaxDepth;

    /// <summary>
    /// Where this kernel is expected to beat <see cref="Qs8GemmC2Avx2"/> (both are exact everywhere): with VPDPBUSD
    /// (one instruction per 32 multiply-adds against four) every layer it covers. With VPMADDUBSW: an input at zero
    /// point -128 (a ReLU's output, where pairs past 256 are rare: 0-0.15 % of V1 1.0-224's) of at least 32 input
    /// channels, and either at least as many outputs as inputs, or (a projection) at least 192 inputs over at least
    /// 14x14 pixels. Measured per layer against the int16 kernel on V1 1.0-224 int8, one process, both in turn: depth
    /// 32 1.01-1.06x, 64 1.09-1.12x, 128-1024 1.15-1.25x. V2 1.0-224 int8's projections, two sessions taking turns
    /// (three runs at 1 thread, three at 2): depth 192-576 at 28x28 and 14x14 1.04-1.24x (the model 1.01-1.02x at 1
    /// thread); depth 32-144 0.88-1.08x and the 7x7 ones 0.90-1.17x, so those stay on the int16 kernel.
    /// </summary>
    public static bool Pays(in ConvGeometry g, int inputZeroPoint) =>
        Covers(g) && (!TStep.SaturatesPairs || inputZeroPoint == -128 && g.InC >= 32
            && (g.OutC >= g.InC || g.InC >= 192 && (long)g.OutH * g.OutW >= 14 * 14));

    public Qs8GemmC4(in ConvGeometry g, int inputZeroPoint, Qs8OutputParams outputParams, ReadOnlySpan<sbyte> filter,
        ReadOnlySpan<int> bias)
        : base(g, $"Qs8Gemm_{MR}x{NR}c4_{TStep.Isa}")
    {
        if (!Covers(g)) throw new ArgumentException($"{Name} computes pointwise convolutions of 1 to {MaxDepth} input channels");
        _k = g.InC;
        Qs8GemmTiles.CheckArguments(Name, g, _k, filter.Length, bias.Length, outputParams.Multipliers.Length);
        _k4 = (_k + 3) & ~3;
        _blocks = (g.OutC + NR - 1) / NR;
        _blockStride = _k4 * NR;
        _weights = new AlignedBuffer<sbyte>(_blocks * _blockStride);
        _bias = new AlignedBuffer<int>(_blocks * NR);
        var packedBias = _bias.Span;
        var int8Bias = new int[g.OutC]; // bias - zp * sum(w): what the int8-product bound of the shorter rounding is about
        // Packing is on the start-up path: each block's 64-byte lines written whole, a quad of input channels of 16
        // output channels at a time (a byte per store with its index arithmetic took 19 % of a V1 1.0-224 int8
        // `classify` process, ~9 ms; one quad per store down a column, 8 %).
        sbyte* packed = _weights.Pointer;
        int whole = _k / 4;
        fixed (sbyte* source = filter)
        {
            for (int nb = 0; nb < _blocks; nb++)
            {
                int first = nb * NR, count = Math.Min(NR, g.OutC - first);
                int* line = (int*)(packed + (long)nb * _blockStride);
                sbyte* rows = source + (long)first * _k;
                for (int j = 0; j < whole; j++, line += NR)
                    for (int r = 0; r < count; r++) line[r] = Unsafe.ReadUnaligned<int>(rows + (long)r * _k + 4 * j);
                if (whole * 4 < _k)
                    for (int r = 0; r < count; r++)
                        for (int k = whole * 4; k < _k; k++) ((sbyte*)(line + r))[k - whole * 4] = rows[(long)r * _k + k]; // the rest stays zero
            }
            for (int oc = 0; oc < g.OutC; oc++)
            {
                int sum = WeightSum(source + (long)oc * _k, _k);
                int b = bias.IsEmpty ? 0 : bias[oc];
                int8Bias[oc] = unchecked(b - inputZeroPoint * sum);
                packedBias[oc] = unchecked(b - (inputZeroPoint + 128) * sum);
            }
        }
        _requant = new Qs8ChannelParams(outputParams, g.OutC, _blocks * NR);
        _rounding = Qs8RequantizeRight8.Choose(_requant, int8Bias, _k);
        _chunkPixels = Math.Clamp(ChunkBytes / _k4, MR, 1024) / MR * MR;
    }

    /// <summary>The sum of <paramref name="n"/> int8 weights, 32 at a time.</summary>
    private static int WeightSum(sbyte* w, int n)
    {
        var acc = Vector256<int>.Zero;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            var (low, high) = Vector256.Widen(Vector256.Load(w + i));
            var (a, b) = Vector256.Widen(low);
            var (c, d) = Vector256.Widen(high);
            acc += a + b + (c + d);
        }
        int sum = Vector256.Sum(acc);
        for (; i < n; i++) sum += w[i];
        return sum;
    }

    [SkipLocalsInit]
    protected override void ComputeBlocks(ReadOnlySpan<sbyte> input, Span<sbyte> output, int p0, int p1, int nb0, int nb1)
    {
        int rowBytes = _chunkPixels * _k4 + CacheLine.Bytes;
        byte* rowSpace = stackalloc byte[rowBytes];
        byte* excessSpace = stackalloc byte[rowBytes];
        byte* rows = CacheLine.Align(rowSpace), excessRows = CacheLine.Align(excessSpace);
        int capacity = _chunkPixels * _k4 / DenseEvery;
        int* entries = stackalloc int[capacity];
        int* listStart = stackalloc int[_chunkPixels + 1];
        int* tileSpace = stackalloc int[MR * NR + CacheLine.Bytes / sizeof(int)];
        int* tile = CacheLine.Align(tileSpace);
        int chunk = Qs8GemmTiles.BalancedChunk(p1 - p0, _chunkPixels);
        fixed (sbyte* inp = input)
        fixed (sbyte* outp = output)
        {
            for (int c0 = p0; c0 < p1; c0 += chunk)
            {
                int pixels = Math.Min(chunk, p1 - c0);
                sbyte* source = inp + (long)c0 * _k;
                bool listed = true;
                if (!TStep.SaturatesPairs) StageUnsigned(source, rows, pixels);
                else if (!(listed = Stage(source, rows, pixels, entries, pixels * _k4 / DenseEvery, listStart))) StageExcess(source, excessRows, pixels);
                var tiles = new ChunkTiles(this, new StagedChunk(rows, listed ? null : excessRows, entries, listStart),
                    outp + (long)c0 * Geometry.OutC, tile);
                Qs8GemmTiles.ForEachTile(ref tiles, pixels, nb0, nb1, _weights.Pointer, _blockStride);
            }
        }
    }

    private readonly struct ChunkTiles(Qs8GemmC4<TStep> kernel, StagedChunk staged, sbyte* output, int* tile) : IChunkTiles
    {
        public void Tile<TRows>(int first, int nb) where TRows : struct, IRowCount =>
            kernel.Tile<TRows>(staged, first, output + (long)first * kernel.Geometry.OutC, nb, tile);
    }

    /// <summary>
    /// One chunk's staged input: the bounded rows, and either the excess entries in pixel order (pixel p's are
    /// [ListStart[p], ListStart[p + 1])) or rows of the excesses alone.
    /// </summary>
    private readonly struct StagedChunk(byte* rows, byte* excessRows, int* entries, int* listStart)
    {
        public readonly byte* Rows = rows, ExcessRows = excessRows;
        public readonly int* Entries = entries, ListStart = listStart;
    }

    /// <summary>
    /// Writes each pixel's row of u = x + 128 with every pair bounded to a sum of 256 (the excess taken from the odd
    /// channel; K padded to a multiple of 4 with zeros) and lists the excesses. False when the lists would pass
    /// <paramref name="capacity"/>: the chunk is dense and its lists incomplete (the bounded rows are always whole).
    /// </summary>
    private bool Stage(sbyte* source, byte* rows, int pixels, int* entries, int capacity, int* listStart)
    {
        ushort* excesses = stackalloc ushort[16];
        int count = 0;
        bool listed = true;
        for (int p = 0; p < pixels; p++, source += _k, rows += _k4)
        {
            listStart[p] = count;
            int k = 0;
            for (; k + 32 <= _k; k += 32)
            {
                var u = Unsigned(source + k);
                var excess = PairExcess(u);
                if (Avx.TestZ(excess, excess))
                {
                    Vector256.Store(u, rows + k);
                    continue;
                }
                Vector256.Store((u.AsUInt16() - Avx2.ShiftLeftLogical(excess, 8)).AsByte(), rows + k);
                if (!listed) continue;
                // One bit per byte of a nonzero excess word: its low byte (the pair's even channel).
                uint words = (uint)Avx2.MoveMask(Avx2.CompareEqual(excess, Vector256<ushort>.Zero).AsByte()) ^ 0xFFFFFFFF;
                words &= 0x55555555;
                if (count + BitOperations.PopCount(words) > capacity) { listed = false; continue; }
                excess.Store(excesses); // one store, then scalar reads: a variable-index extract costs more
                for (; words != 0; words &= words - 1)
                {
                    int pair = BitOperations.TrailingZeroCount(words) >> 1;
                    entries[count++] = p << PixelBit | (k + 2 * pair + 1) << 8 | excesses[pair];
                }
            }
            for (; k < _k4; k += 2)
            {
                int u0 = UnsignedOrPadding(source, k), u1 = UnsignedOrPadding(source, k + 1);
                int e = PairExcess(u0, u1);
                rows[k] = (byte)u0;
                rows[k + 1] = (byte)(u1 - e);
                if (e == 0 || !listed) continue;
                if (count == capacity) listed = false;
                else entries[count++] = p << PixelBit | (k + 1) << 8 | e;
            }
        }
        listStart[pixels] = count;
        return listed;
    }

    /// <summary>Each pixel's row of u = x + 128 (K padded to a multiple of 4): the rows a step that cannot saturate takes.</summary>
    private void StageUnsigned(sbyte* source, byte* rows, int pixels)
    {
        for (int p = 0; p < pixels; p++, source += _k, rows += _k4)
        {
            int k = 0;
            for (; k + 32 <= _k; k += 32) Vector256.Store(Unsigned(source + k), rows + k);
            for (; k < _k4; k++) rows[k] = (byte)UnsignedOrPadding(source, k);
        }
    }

    /// <summary>Rows shaped like the bounded rows holding only each pair's excess, in its odd channel.</summary>
    private void StageExcess(sbyte* source, byte* excessRows, int pixels)
    {
        for (int p = 0; p < pixels; p++, source += _k, excessRows += _k4)
        {
            int k = 0;
            for (; k + 32 <= _k; k += 32)
                Vector256.Store(Avx2.ShiftLeftLogical(PairExcess(Unsigned(source + k)), 8).AsByte(), excessRows + k);
            for (; k < _k4; k += 2)
            {
                excessRows[k] = 0;
                excessRows[k + 1] = (byte)PairExcess(UnsignedOrPadding(source, k), UnsignedOrPadding(source, k + 1));
            }
        }
    }

    /// <summary>32 activations as u = x + 128.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Unsigned(sbyte* x) => Vector256.Load((byte*)x) ^ Vector256.Create((byte)0x80);

    /// <summary>Activation k of a row as u = x + 128, 0 past the depth (the padding to a multiple of 4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int UnsignedOrPadding(sbyte* row, int k) => k < _k ? row[k] + 128 : 0;

    /// <summary>Each pair's sum past 256, 0 where none (the sums, at most 510, are exact from VPMADDUBSW by ones).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ushort> PairExcess(Vector256<byte> u) =>
        Avx2.SubtractSaturate(Avx2.MultiplyAddAdjacent(u, Vector256.Create((sbyte)1)).AsUInt16(), Vector256.Create((ushort)256));

    private static int PairExcess(int u0, int u1) => Math.Max(0, u0 + u1 - 256);

    /// <summary>TRows (1 to 6) pixels from <paramref name="first"/> of the chunk x output channels [nb * 16, nb * 16 + 16).</summary>
    private void Tile<TRows>(in StagedChunk staged, int first, sbyte* output, int nb, int* tile) where TRows : struct, IRowCount
    {
        int count = TRows.Count, oc0 = nb * NR;
        sbyte* w = _weights.Pointer + (long)nb * _blockStride;
        // With nothing to add back, the output step can take the accumulators from registers.
        bool direct = Qs8GemmTiles.StoresFromRegisters(_rounding, Geometry.OutC, oc0)
            && (!TStep.SaturatesPairs || staged.ExcessRows is null && staged.ListStart[first] == staged.ListStart[first + count]);
        Accumulate<TRows>(staged.Rows + (long)first * _k4, w, _bias.Pointer + oc0, tile, add: false, direct ? output + oc0 : null, oc0);
        if (direct) return;
        if (TStep.SaturatesPairs) // a step that cannot saturate had nothing held back
        {
            if (staged.ExcessRows is not null) Accumulate<TRows>(staged.ExcessRows + (long)first * _k4, w, null, tile, add: true, null, oc0);
            else
            {
                // One loop over the tile's entries, each added to its row: per row, a loop of 0 or 1 entries costs a
                // mispredicted branch whenever entries are neither rare nor common.
                var ones = Vector256.Create((short)1);
                for (int i = staged.ListStart[first], end = staged.ListStart[first + count]; i < end; i++)
                {
                    int entry = staged.Entries[i];
                    AddWeightColumn(tile + ((entry >> PixelBit) - first) * NR, w, (entry >> 8) & (MaxDepth - 1), entry & 0xFF, ones);
                }
            }
        }
        Qs8GemmTiles.StoreRows(_requant, _rounding, tile, output + oc0, count, Geometry.OutC, oc0);
    }

    /// <summary>
    /// The tile's arithmetic over TRows rows of unsigned bytes whose pairs sum to at most 256: per quad of input
    /// channels one VPBROADCASTD per row, two weight loads, and per row and half VPMADDUBSW + VPMADDWD + VPADDD.
    /// Starts from the bias and stores the tile, or (<paramref name="add"/>) starts from zero and adds to it; or, given
    /// an <paramref name="output"/>, requantizes the sums of channels from <paramref name="oc0"/> into it
    /// (<see cref="Qs8GemmTiles.StoreClampedRowsFromRegisters"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Accumulate<TRows>(byte* a, sbyte* w, int* bias, int* tile, bool add, sbyte* output, int oc0) where TRows : struct, IRowCount
    {
        int rows = TRows.Count, stride = _k4;
        var acc00 = add ? Vector256<int>.Zero : Avx.LoadVector256(bias);
        var acc01 = add ? Vector256<int>.Zero : Avx.LoadVector256(bias + 8);
        Vector256<int> acc10 = acc00, acc11 = acc01, acc20 = acc00, acc21 = acc01, acc30 = acc00, acc31 = acc01,
            acc40 = acc00, acc41 = acc01, acc50 = acc00, acc51 = acc01;
        var ones = Vector256.Create((short)1);
        Qs8GemmTiles.RowWords(a, stride, rows, out int* a0, out int* a1, out int* a2, out int* a3, out int* a4, out int* a5);
        for (int quad = 0, quads = stride / 4; quad < quads; quad++, w += 4 * NR)
        {
            var w0 = Avx.LoadVector256(w);
            var w1 = Avx.LoadVector256(w + 2 * NR);
            var x = Vector256.Create(a0[quad]).AsByte();
            acc00 = Step(acc00, x, w0, ones); acc01 = Step(acc01, x, w1, ones);
            if (rows > 1) { x = Vector256.Create(a1[quad]).AsByte(); acc10 = Step(acc10, x, w0, ones); acc11 = Step(acc11, x, w1, ones); }
            if (rows > 2) { x = Vector256.Create(a2[quad]).AsByte(); acc20 = Step(acc20, x, w0, ones); acc21 = Step(acc21, x, w1, ones); }
            if (rows > 3) { x = Vector256.Create(a3[quad]).AsByte(); acc30 = Step(acc30, x, w0, ones); acc31 = Step(acc31, x, w1, ones); }
            if (rows > 4) { x = Vector256.Create(a4[quad]).AsByte(); acc40 = Step(acc40, x, w0, ones); acc41 = Step(acc41, x, w1, ones); }
            if (rows > 5) { x = Vector256.Create(a5[quad]).AsByte(); acc50 = Step(acc50, x, w0, ones); acc51 = Step(acc51, x, w1, ones); }
        }
        if (output is not null)
        {
            Qs8GemmTiles.StoreClampedRowsFromRegisters(_requant, oc0, rows, output, Geometry.OutC,
                acc00, acc01, acc10, acc11, acc20, acc21, acc30, acc31, acc40, acc41, acc50, acc51);
            return;
        }
        Put(tile, acc00, add); Put(tile + 8, acc01, add);
        if (rows > 1) { Put(tile + 16, acc10, add); Put(tile + 24, acc11, add); }
        if (rows > 2) { Put(tile + 32, acc20, add); Put(tile + 40, acc21, add); }
        if (rows > 3) { Put(tile + 48, acc30, add); Put(tile + 56, acc31, add); }
        if (rows > 4) { Put(tile + 64, acc40, add); Put(tile + 72, acc41, add); }
        if (rows > 5) { Put(tile + 80, acc50, add); Put(tile + 88, acc51, add); }
    }

    /// <summary>One row's quad of unsigned bytes (broadcast) times 8 channels' weight quads, added to their int32 sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Step(Vector256<int> acc, Vector256<byte> x, Vector256<sbyte> weights, Vector256<short> ones) =>
        TStep.MultiplyAdd(acc, x, weights, ones);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(int* target, Vector256<int> sum, bool add) =>
        Avx.Store(target, add ? Avx2.Add(Avx.LoadVector256(target), sum) : sum);

    /// <summary>
    /// Adds <paramref name="excess"/> x input channel <paramref name="k"/>'s weights for the block's 16 output channels
    /// to one tile row: the tile's own step on a quad holding only the excess (a single product, at most 254 x 128:
    /// VPMADDUBSW cannot saturate on it). Only for a step that saturates pairs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddWeightColumn(int* row, sbyte* blockWeights, int k, int excess, Vector256<short> ones)
    {
        sbyte* quad = blockWeights + (k >> 2) * 4 * NR;
        var x = Vector256.Create(excess << 8 * (k & 3)).AsByte();
        Avx.Store(row, Step(Avx.LoadVector256(row), x, Avx.LoadVector256(quad), ones));
        Avx.Store(row + 8, Step(Avx.LoadVector256(row + 8), x, Avx.LoadVector256(quad + 2 * NR), ones));
    }
}

/// <summary>
/// The quad multiply-add of <see cref="Qs8GemmC4{TStep}"/>: per int32 lane, the sum plus the four products of the
/// lane's unsigned activation bytes and signed weight bytes.
/// </summary>
public interface IQs8QuadStep
{
    /// <summary>The ISA suffix of the kernel's name.</summary>
    static abstract string Isa { get; }

    static abstract bool IsSupported { get; }

    /// <summary>
    /// Whether the step sums products in pairs through saturating int16 (VPMADDUBSW): the kernel then bounds each staged
    /// pair of activations to a sum of 256 and adds the excess back.
    /// </summary>
    static abstract bool SaturatesPairs { get; }

    /// <summary>acc + the four products per int32 lane; <paramref name="ones"/> is 16 int16 ones, for a step that needs them.</summary>
    static abstract Vector256<int> MultiplyAdd(Vector256<int> acc, Vector256<byte> x, Vector256<sbyte> weights, Vector256<short> ones);
}

/// <summary>AVX2: VPMADDUBSW (pairs into int16, saturating) + VPMADDWD by ones (pairs of pairs into int32) + VPADDD.</summary>
public readonly struct Qs8QuadStepAvx2 : IQs8QuadStep
{
    public static string Isa => "Avx2";
    public static bool IsSupported => Avx2.IsSupported;
    public static bool SaturatesPairs => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> MultiplyAdd(Vector256<int> acc, Vector256<byte> x, Vector256<sbyte> weights, Vector256<short> ones) =>
        Avx2.Add(acc, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, weights), ones));
}

/// <summary>
/// AVX-VNNI: one VPDPBUSD, the four products added straight into int32 (the non-saturating form), exact on any bytes.
/// .NET 10 exposes it as <see cref="AvxVnni"/> (the VEX form: Intel from Alder Lake and Sapphire Rapids on).
/// </summary>
public readonly struct Qs8QuadStepAvxVnni : IQs8QuadStep
{
    public static string Isa => "AvxVnni";
    public static bool IsSupported => AvxVnni.IsSupported;
    public static bool SaturatesPairs => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> MultiplyAdd(Vector256<int> acc, Vector256<byte> x, Vector256<sbyte> weights, Vector256<short> ones) =>
        AvxVnni.MultiplyWideningAndAdd(acc, x, weights);
}
