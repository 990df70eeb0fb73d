using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeMobileNet.Kernels.Dispatch;
using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Kernels.Simd;

/// <summary>
/// The AVX2 int8 GEMMs as kernels: output blocks of <see cref="Qs8GemmTiles.NR"/> channels, pixel groups of
/// <see cref="Qs8GemmTiles.MR"/>, a row range run as the blocks of its pixels.
/// </summary>
public abstract class Qs8TiledGemmKernel(in ConvGeometry geometry, string name) : Qs8ConvolutionKernel(geometry, name)
{
    public sealed override int ColumnBlocks => (Geometry.OutC + Qs8GemmTiles.NR - 1) / Qs8GemmTiles.NR;

    public sealed override int TilePixels => Qs8GemmTiles.MR;

    /// <summary>Both AVX2 GEMMs stage every chunk's rows (unsigned bytes with bounded pairs, or int16).</summary>
    public sealed override bool StagesRows => true;

    public sealed override void Run(ReadOnlySpan<sbyte> input, Span<sbyte> output, int firstRow, int rowCount) =>
        RunRowsAsBlocks(input, output, firstRow, rowCount);
}

/// <summary>A GEMM's tile over one staged chunk: TRows pixels from the chunk's pixel <c>first</c> x output block <c>nb</c>.</summary>
internal interface IChunkTiles
{
    void Tile<TRows>(int first, int nb) where TRows : struct, IRowCount;
}

/// <summary>
/// What the AVX2 int8 GEMM kernels (<see cref="Qs8GemmC2Avx2"/>, <see cref="Qs8GemmC4{TStep}"/>) share around their
/// tiles: the tile and chunk sizes, how a row range is cut into staged chunks, and the output step that requantizes
/// a tile of int32 sums.
/// </summary>
internal static unsafe class Qs8GemmTiles
{
    public const int MR = 6, NR = 16;

    /// <summary>
    /// Staged input rows per chunk: they stay in L2 while every channel block passes over them, and each chunk streams
    /// all the weights once, so chunks are as large as L2 allows (half of this core's 512 KB). The VPMADDUBSW kernel's
    /// bytes are half the int16 kernel's per value; with chunks of half this size, 14x14 512 -> 512 took a second
    /// weight pass and, at 2 threads, ran 0.83-0.90x the int16 kernel's speed instead of 1.15-1.20x.
    /// </summary>
    public const int ChunkBytes = 192 * 1024;

    /// <summary>The most values (window x input channels) a staged row holds.</summary>
    public const int MaxDepth = 8192;

    /// <summary>
    /// Pixels per chunk for <paramref name="pixels"/> rows when at most <paramref name="maxChunk"/> fit: chunks of
    /// balanced size in whole tiles (196 pixels in 2 chunks of 102 + 94, not 192 + 4: a whole weight pass for 4 pixels).
    /// </summary>
    public static int BalancedChunk(int pixels, int maxChunk)
    {
        int chunks = (pixels + maxChunk - 1) / maxChunk;
        return chunks == 0 ? MR : Math.Min(maxChunk, ((pixels + chunks - 1) / chunks + MR - 1) / MR * MR);
    }

    /// <summary>The packing arguments both GEMMs take: filter [OutC x depth], bias empty or one per output, multipliers one or one per output.</summary>
    public static void CheckArguments(string kernel, in ConvGeometry g, int depth, int filterLength, int biasLength, int multipliers)
    {
        if (filterLength != (long)g.OutC * depth) throw new ArgumentException($"{kernel}: filter has {filterLength} elements, expected {(long)g.OutC * depth}");
        if (biasLength != 0 && biasLength != g.OutC) throw new ArgumentException($"{kernel}: bias has {biasLength} elements, expected {g.OutC}");
        if (multipliers != 1 && multipliers != g.OutC)
            throw new ArgumentException($"{kernel}: {multipliers} multipliers for {g.OutC} output channels");
    }

    /// <summary>
    /// Runs <paramref name="tiles"/> over a staged chunk of <paramref name="pixels"/> for every output block in
    /// [nb0, nb1): 6-pixel tiles, then one tile of the 1-5 left, each row count its own instantiation. While a block
    /// computes, its tiles prefetch the next block's weights (<paramref name="weights"/>, blocks
    /// <paramref name="blockBytes"/> apart), as the fp32 GEMM does, where a block holds at least 4 KB: the first
    /// tile of a block otherwise waits on its weights (V1 1.0-224 int8's 14x14 and 7x7 layers, one process, with and
    /// without in turn: 1.01-1.03x at 1 thread, 1.03-1.10x at 2; the whole model 1.01-1.04x).
    /// </summary>
    public static void ForEachTile<TTiles>(ref TTiles tiles, int pixels, int nb0, int nb1, sbyte* weights, int blockBytes)
        where TTiles : struct, IChunkTiles
    {
        int shares = pixels / MR;
        for (int nb = nb0; nb < nb1; nb++)
        {
            int t = 0;
            for (; t + MR <= pixels; t += MR)
            {
                if (blockBytes >= 4096 && nb + 1 < nb1) WeightPrefetch.Share(weights + (long)(nb + 1) * blockBytes, blockBytes, t / MR, shares);
                tiles.Tile<Rows6>(t, nb);
            }
            switch (pixels - t)
            {
                case 1: tiles.Tile<Rows1>(t, nb); break;
                case 2: tiles.Tile<Rows2>(t, nb); break;
                case 3: tiles.Tile<Rows3>(t, nb); break;
                case 4: tiles.Tile<Rows4>(t, nb); break;
                case 5: tiles.Tile<Rows5>(t, nb); break;
            }
        }
    }

    /// <summary>
    /// The int32 words of a tile's <paramref name="rows"/> staged rows, <paramref name="strideBytes"/> apart. Rows past
    /// the count alias row 0: in an instantiation for fewer rows their accumulators are dead code.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RowWords(byte* a, int strideBytes, int rows, out int* a0, out int* a1, out int* a2, out int* a3,
        out int* a4, out int* a5)
    {
        a0 = (int*)a;
        a1 = rows > 1 ? (int*)(a + strideBytes) : a0;
        a2 = rows > 2 ? (int*)(a + 2 * strideBytes) : a0;
        a3 = rows > 3 ? (int*)(a + 3 * strideBytes) : a0;
        a4 = rows > 4 ? (int*)(a + 4 * strideBytes) : a0;
        a5 = rows > 5 ? (int*)(a + 5 * strideBytes) : a0;
    }

    /// <summary>
    /// Requantizes <paramref name="rows"/> pixels' 16 channels of <paramref name="tile"/> (int32, 16 per pixel), two
    /// pixels per step, and writes the first <paramref name="valid"/> of each to <paramref name="output"/>.
    /// </summary>
    public static void StoreRows(Qs8ChannelParams requant, Qs8RoundingKind rounding, int* tile, sbyte* output,
        int rows, int outC, int oc0)
    {
        int valid = Math.Min(NR, outC - oc0);
        switch (rounding)
        {
            case Qs8RoundingKind.RightShiftClamped: StoreRows<Qs8RequantizeRightClamped8>(requant, tile, output, rows, outC, oc0, valid); break;
            case Qs8RoundingKind.RightShift: StoreRows<Qs8RequantizeRight8>(requant, tile, output, rows, outC, oc0, valid); break;
            default: StoreRows<Qs8Requantize8>(requant, tile, output, rows, outC, oc0, valid); break;
        }
    }

    /// <summary>
    /// Whether a tile of output channels [oc0, oc0 + 16) is requantized straight from its accumulator registers
    /// (<see cref="StoreClampedRowsFromRegisters"/>): a whole block, with the clamped rounding.
    /// </summary>
    public static bool StoresFromRegisters(Qs8RoundingKind rounding, int outC, int oc0) =>
        rounding == Qs8RoundingKind.RightShiftClamped && oc0 + NR <= outC;

    /// <summary>
    /// The output step of a whole block (16 channels from <paramref name="oc0"/>) with the clamped rounding, on
    /// accumulators still in registers (row r's channels 0-7 in accR0, 8-15 in accR1): two rows per step, as
    /// <see cref="StoreRows"/>, without the tile's round trip through memory. The rounding's parameters are read from
    /// memory, so the accumulators are the only vectors live across the loop: V1 1.0-224 int8's depth 32-64
    /// pointwise layers and first layer 1.03-1.10x, V2 1.0-224 int8's expansions 1.02-1.14x. The unclamped right-shift
    /// rounding the same way measured 0.92-1.06x per V2 projection, nothing overall: it stays on the memory path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreClampedRowsFromRegisters(Qs8ChannelParams requant, int oc0, int rows, sbyte* output, int outC,
        Vector256<int> acc00, Vector256<int> acc01, Vector256<int> acc10, Vector256<int> acc11,
        Vector256<int> acc20, Vector256<int> acc21, Vector256<int> acc30, Vector256<int> acc31,
        Vector256<int> acc40, Vector256<int> acc41, Vector256<int> acc50, Vector256<int> acc51)
    {
        var low = Qs8RequantizeRightClamped8.Load(requant, oc0);
        var high = Qs8RequantizeRightClamped8.Load(requant, oc0 + 8);
        var zp = Vector256.Create((short)requant.ZeroPoint);
        var min = Vector256.Create((sbyte)requant.Min);
        var max = Vector256.Create((sbyte)requant.Max);
        // Rows in pairs; a last odd row is paired with itself and only its half stored.
        StoreRowPair(Qs8Rounding.TwoPixels16(low, high, acc00, acc01, rows > 1 ? acc10 : acc00, rows > 1 ? acc11 : acc01, zp, min, max),
            output, outC, rows > 1);
        if (rows > 2)
            StoreRowPair(Qs8Rounding.TwoPixels16(low, high, acc20, acc21, rows > 3 ? acc30 : acc20, rows > 3 ? acc31 : acc21, zp, min, max),
                output + 2 * outC, outC, rows > 3);
        if (rows > 4)
            StoreRowPair(Qs8Rounding.TwoPixels16(low, high, acc40, acc41, rows > 5 ? acc50 : acc40, rows > 5 ? acc51 : acc41, zp, min, max),
                output + 4 * outC, outC, rows > 5);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRowPair(Vector256<sbyte> bytes, sbyte* output, int outC, bool pair)
    {
        Unsafe.WriteUnaligned(output, bytes.GetLower());
        if (pair) Unsafe.WriteUnaligned(output + outC, bytes.GetUpper());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRows<TRound>(Qs8ChannelParams requant, int* tile, sbyte* output, int rows, int outC,
        int oc0, int valid) where TRound : struct, IQs8Rounding8<TRound>
    {
        var zp = Vector256.Create((short)requant.ZeroPoint);
        var min = Vector256.Create((sbyte)requant.Min);
        var max = Vector256.Create((sbyte)requant.Max);
        var low = TRound.Load(requant, oc0);
        var high = TRound.Load(requant, oc0 + 8);
        for (int m = 0; m < rows; m += 2, tile += 2 * NR, output += 2 * outC)
        {
            bool pair = m + 1 < rows;
            int* next = pair ? tile + NR : tile;
            var bytes = Qs8Rounding.TwoPixels16(low, high, Avx.LoadVector256(tile), Avx.LoadVector256(tile + 8),
                Avx.LoadVector256(next), Avx.LoadVector256(next + 8), zp, min, max);
            if (valid == NR)
            {
                StoreRowPair(bytes, output, outC, pair);
                continue;
            }
            StorePartial(bytes.GetLower(), output, valid);
            if (pair) StorePartial(bytes.GetUpper(), output + outC, valid);
        }
    }

    /// <summary>
    /// The first <paramref name="count"/> (below 16) of 16 bytes: 8, 4, 2, 1 at a time (a 24-channel layer's last
    /// block is one 8-byte store; element by element, each byte was a vector spilled to the stack and reloaded:
    /// 56x56 96 -> 24 spent 15 % of its time on them).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StorePartial(Vector128<sbyte> bytes, sbyte* output, int count)
    {
        ulong word = bytes.AsUInt64().ToScalar();
        if ((count & 8) != 0)
        {
            Unsafe.WriteUnaligned(output, word);
            output += 8;
            word = bytes.AsUInt64().GetElement(1);
        }
        if ((count & 4) != 0) { Unsafe.WriteUnaligned(output, (uint)word); output += 4; word >>= 32; }
        if ((count & 2) != 0) { Unsafe.WriteUnaligned(output, (ushort)word); output += 2; word >>= 16; }
        if ((count & 1) != 0) *output = (sbyte)word;
    }
}
