using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeMobileNet.Kernels.Dispatch;
using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Kernels.Simd;

/// <summary>
/// int8 GEMM for pointwise (1x1, stride 1, unpadded) convolutions and fully connected layers on AVX2, the
/// "c16" layout (XNNPACK's qs8-gemm-c8 idea at AVX2 width): 16 input channels of a pixel are sign-extended once
/// (VPMOVSXBW) and multiplied against 16 int16 weights of each of 4 output channels (VPMADDWD), keeping 8 int32
/// partial sums per output; a 2-pixel x 4-channel tile reduces them at the end (VPHADDD). Per 16 input channels
/// that is 2 widenings for 8 VPMADDWD, against 8 broadcasts per 8 VPMADDWD in the c2 IGEMM.
/// Weights are packed at load as int16, per block of 4 output channels: [K/16 x 4 x 16 int16] (bias separate),
/// K padded with zero weights to 16; the input zero point is folded into the bias. A row's last partial group of
/// 16 is read in place (the bytes after the row meet zero weights) except for the last pixels, whose read would
/// pass the input's end: their rows are copied into zero-padded scratch first. Both pixels of a tile requantize as one
/// 8-lane vector (<see cref="Qs8Requantizer"/>, bit-exact with the reference).
/// </summary>
public sealed unsafe class Qs8GemmC16Avx2 : Qs8ConvolutionKernel
{
    private const int MR = 2, NR = 4, KC = 16;
    private readonly short[] _weights;
    private readonly int[] _bias;
    // Entries [nb * 8, nb * 8 + 8) = block nb's 4 channels twice: both tile rows requantize as one AVX2 vector.
    private readonly Qs8ChannelParams _requant;
    private readonly int _k, _groups, _tail, _blocks, _blockStride;
    private const int MaxDepth = 8192;

    public static bool IsSupported => Avx2.IsSupported;

    /// <summary>Pointwise shapes this kernel computes: 1x1, stride 1, no padding, 16 to 8192 input channels.</summary>
    public static bool Covers(in ConvGeometry g) =>
        g.KernelH == 1 && g.KernelW == 1 && g.StrideH == 1 && g.StrideW == 1 && g.PadTop == 0 && g.PadLeft == 0 &&
        g.InH == g.OutH && g.InW == g.OutW && g.DepthMultiplier == 1 && g.InC >= KC && g.InC <= MaxDepth;

    public Qs8GemmC16Avx2(in ConvGeometry g, int inputZeroPoint, Qs8OutputParams outputParams, ReadOnlySpan<sbyte> filter,
        ReadOnlySpan<int> bias)
        : base(g, $"Qs8Gemm_{MR}x{NR}c{KC}_Avx2")
    {
        if (!Covers(g)) throw new ArgumentException($"{Name} computes 1x1 stride-1 unpadded convolutions with at least {KC} input channels");
        _k = g.InC;
        if (filter.Length != (long)g.OutC * _k) throw new ArgumentException($"filter has {filter.Length} elements, expected {(long)g.OutC * _k}");
        if (!bias.IsEmpty && bias.Length != g.OutC) throw new ArgumentException($"bias has {bias.Length} elements, expected {g.OutC}");
        if (outputParams.Multipliers.Length != 1 && outputParams.Multipliers.Length != g.OutC)
            throw new ArgumentException($"{outputParams.Multipliers.Length} multipliers for {g.OutC} output channels");
        _groups = (_k + KC - 1) / KC;
        _tail = _k % KC;
        int groups = _groups;
        _blocks = (g.OutC + NR - 1) / NR;
        _blockStride = groups * NR * KC;
        _weights = GC.AllocateArray<short>(_blocks * _blockStride, pinned: true);
        _bias = GC.AllocateArray<int>(_blocks * NR, pinned: true);
        // Packing at load is on the start-up path: one widening copy per group of 16, not per weight.
        fixed (sbyte* source = filter)
        fixed (short* packed = _weights)
        {
            for (int oc = 0; oc < g.OutC; oc++)
            {
                sbyte* row = source + (long)oc * _k;
                short* column = packed + (long)(oc / NR) * _blockStride + oc % NR * KC;
                var sums = Vector128<int>.Zero;
                int full = _k / KC;
                for (int gi = 0; gi < full; gi++)
                {
                    var (lo, hi) = Vector128.Widen(Vector128.Load(row + gi * KC));
                    lo.Store(column + gi * NR * KC);
                    hi.Store(column + gi * NR * KC + 8);
                    var (l0, l1) = Vector128.Widen(lo + hi);
                    sums += l0 + l1;
                }
                int sum = Vector128.Sum(sums);
                for (int k = full * KC; k < _k; k++)
                {
                    column[full * NR * KC + k - full * KC] = row[k];
                    sum += row[k];
                }
                _bias[oc] = unchecked((bias.IsEmpty ? 0 : bias[oc]) - inputZeroPoint * sum);
            }
        }
        var entries = new int[_blocks * MR * NR];
        for (int e = 0; e < entries.Length; e++) entries[e] = e / (MR * NR) * NR + e % NR;
        _requant = new Qs8ChannelParams(outputParams, g.OutC, entries);
    }

    public override int ColumnBlocks => _blocks;

    public override void Run(ReadOnlySpan<sbyte> input, Span<sbyte> output, int firstRow, int rowCount) =>
        RunRowsAsBlocks(input, output, firstRow, rowCount);

    protected override void ComputeBlocks(ReadOnlySpan<sbyte> input, Span<sbyte> output, int p0, int p1, int nb0, int nb1)
    {
        // Pixels per chunk: their input rows stay in L2 while every channel block passes over them.
        int chunk = Math.Clamp(131072 / _k, MR, 1024) / MR * MR;
        int paddedK = _groups * KC;
        sbyte* rows = stackalloc sbyte[MR * paddedK]; // bounded: Covers() limits the input depth
        fixed (sbyte* inp = input)
        fixed (sbyte* outp = output)
        {
            // Pixels from here on are too close to the input's end to read a whole last group of 16 in place.
            int direct = (int)Math.Clamp((input.Length - (KC - _tail) - (long)_k) / _k, 0, p1);
            for (int c0 = p0; c0 < p1; c0 += chunk)
            {
                int c1 = Math.Min(c0 + chunk, p1);
                for (int nb = nb0; nb < nb1; nb++) Block(inp, outp, c0, c1, nb, rows, direct);
            }
        }
    }

    /// <summary>Output channels [nb * NR, nb * NR + NR) of pixels [p0, p1), MR pixels per tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Block(sbyte* input, sbyte* output, int p0, int p1, int nb, sbyte* rows, int direct)
    {
        int k = _k, outC = Geometry.OutC, groups = _groups;
        int oc0 = nb * NR, valid = Math.Min(NR, outC - oc0);
        short* weights = (short*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_weights)) + (long)nb * _blockStride;
        var bias = Sse2.LoadVector128((int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_bias)) + oc0);
        var zp = Vector256.Create(_requant.ZeroPoint);
        var min = Vector256.Create(_requant.Min);
        var max = Vector256.Create(_requant.Max);
        for (int p = p0; p < p1; p += MR)
        {
            bool pair = p + 1 < p1;
            sbyte* a0 = input + (long)p * k;
            sbyte* a1 = pair ? a0 + k : a0;
            short* w = weights;
            if (_tail > 0 && p + 1 >= direct)
            {
                // The last pixels: whole rows copied into zero-padded scratch, so no read passes the input's end.
                new Span<sbyte>(rows, MR * _groups * KC).Clear();
                Buffer.MemoryCopy(a0, rows, _groups * KC, k);
                Buffer.MemoryCopy(a1, rows + _groups * KC, _groups * KC, k);
                a0 = rows;
                a1 = rows + _groups * KC;
            }
            Vector256<int> c00 = Vector256<int>.Zero, c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
            for (int gi = 0; gi < groups; gi++)
            {
                var x0 = Avx2.ConvertToVector256Int16(a0);
                var x1 = Avx2.ConvertToVector256Int16(a1);
                var w0 = Avx.LoadVector256(w);
                c00 = Avx2.Add(c00, Avx2.MultiplyAddAdjacent(x0, w0));
                c10 = Avx2.Add(c10, Avx2.MultiplyAddAdjacent(x1, w0));
                var w1 = Avx.LoadVector256(w + KC);
                c01 = Avx2.Add(c01, Avx2.MultiplyAddAdjacent(x0, w1));
                c11 = Avx2.Add(c11, Avx2.MultiplyAddAdjacent(x1, w1));
                var w2 = Avx.LoadVector256(w + 2 * KC);
                c02 = Avx2.Add(c02, Avx2.MultiplyAddAdjacent(x0, w2));
                c12 = Avx2.Add(c12, Avx2.MultiplyAddAdjacent(x1, w2));
                var w3 = Avx.LoadVector256(w + 3 * KC);
                c03 = Avx2.Add(c03, Avx2.MultiplyAddAdjacent(x0, w3));
                c13 = Avx2.Add(c13, Avx2.MultiplyAddAdjacent(x1, w3));
                a0 += KC;
                a1 += KC;
                w += NR * KC;
            }

            var sums = Vector256.Create(Sse2.Add(bias, Reduce(c00, c01, c02, c03)), Sse2.Add(bias, Reduce(c10, c11, c12, c13)));
            var r = Qs8Requantizer.Eight(sums, _requant, nb * MR * NR, zp, min, max);
            var words = Sse2.PackSignedSaturate(r.GetLower(), r.GetUpper()); // values are inside int8 already
            long bytes = Sse2.PackSignedSaturate(words, words).AsInt64().ToScalar();
            sbyte* o = output + (long)p * outC + oc0;
            if (valid == NR)
            {
                Unsafe.WriteUnaligned(o, (int)bytes);
                if (pair) Unsafe.WriteUnaligned(o + outC, (int)(bytes >> 32));
            }
            else
            {
                for (int j = 0; j < valid; j++)
                {
                    o[j] = (sbyte)(bytes >> (8 * j));
                    if (pair) o[outC + j] = (sbyte)(bytes >> (32 + 8 * j));
                }
            }
        }
    }

    /// <summary>The four channels' sums of their 8 partial sums each, as one vector [c0, c1, c2, c3].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Reduce(Vector256<int> c0, Vector256<int> c1, Vector256<int> c2, Vector256<int> c3)
    {
        var h = Avx2.HorizontalAdd(Avx2.HorizontalAdd(c0, c1), Avx2.HorizontalAdd(c2, c3)); // per 128-bit lane: c0 c1 c2 c3
        return Sse2.Add(h.GetLower(), h.GetUpper());
    }
}
