using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using EdgeMobileNet.Kernels.Dispatch;
using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Kernels.Simd;

/// <summary>
/// Builds the optimized <see cref="KernelSet"/>s from the generic kernels and one fp32 and one int8 ops struct
/// each. Shapes a fast kernel does not cover (depth multiplier above 1, fully connected with a non-zero filter
/// zero point) fall back to <see cref="ReferencePrepared"/>. Add (<see cref="F32AddSimd"/>, <see cref="Qs8AddSimd"/>; AVX2 on x64),
/// average pooling and the global means (<see cref="AveragePoolSimd"/>) are vectorized. The x64 sets share the AVX2
/// int8 GEMMs and depthwise kernel, whose layouts are AVX2-specific (their generic depthwise parameter is then
/// unused); the sets named for VNNI run the c4 GEMM with VPDPBUSD.
/// </summary>
public static class SimdKernelSets
{
    public static KernelSet Vector128Set { get; } = Create<F32Vector128, Vector128<float>, Qs8DotVector128, Vector128<int>, Qs8DwVector128, Vector128<int>, Vector128<short>>(
        "vector128", "portable Vector128: fp32 IGEMM 6x8 + depthwise, int8 IGEMM 4x8c2 (PMADDWD/SMULL) + depthwise 8c");

    public static KernelSet AdvSimdSet { get; } = WithInt8Products<Qs8Dot16AdvSimd, Qs8DwTapPairAdvSimd>(
        Create<F32AdvSimd, Vector128<float>, Qs8DotAdvSimd, Vector128<int>, Qs8DwAdvSimd, Vector128<int>, Vector128<short>>("advsimd", ""),
        "advsimd", "ARM64 AdvSimd: fp32 IGEMM 6x8 (FMLA); int8 over int8 products where weights stay in [-127, 127]: conv/FC GEMM 2x8c16 (SMULL+SMLAL2+SADALP; im2col rows for windows), depthwise 16c tap pairs (SMULL+SMLAL+SADDW); otherwise IGEMM 4x8c2 (SMULL+SMLAL+ADDP), depthwise MUL 8c; SQRDMULH requantization");

    /// <summary>
    /// The portable twin of the advsimd set's int8 kernels over int8 products: the vector128 set with
    /// <see cref="Qs8GemmC16{TStep}"/> and <see cref="Qs8DwConvTapPairs{TStep}"/> stepping by <see cref="Qs8Dot16Vector128"/>
    /// and <see cref="Qs8DwTapPairVector128"/>. The registry never picks it (on ARM the AdvSimd steps run); it is how the
    /// tests and the selftest check those kernels' packing, tiles and tails on x64.
    /// </summary>
    public static KernelSet Vector128Int8ProductsSet { get; } = WithInt8Products<Qs8Dot16Vector128, Qs8DwTapPairVector128>(Vector128Set,
        "vector128-int8-products", "portable Vector128 with the int8 conv/FC GEMM 2x8c16 and depthwise 16c tap pairs (int8 products summed in int16 pairs)");

    // SDOT (16 multiply-adds an instruction) stays the GEMM; depthwise has no dot product to use and takes the tap pairs.
    public static KernelSet DpSet { get; } = WithInt8ProductDepthwise<Qs8DwTapPairAdvSimd>(
        Create<F32AdvSimd, Vector128<float>, Qs8DotDp, Vector128<int>, Qs8DwAdvSimd, Vector128<int>, Vector128<short>>(
            "dp", "ARM64 AdvSimd + DotProd: fp32 IGEMM 6x8 (FMLA), int8 SDOT IGEMM 4x8c4, depthwise 16c tap pairs over int8 products (SMULL+SMLAL+SADDW; MUL 8c for a filter holding -128)"));

    public static KernelSet Avx2Set { get; } = Create<F32Avx2, Vector256<float>, Qs8DotAvx2, Vector256<int>, Qs8DwVector128, Vector128<int>, Vector128<short>>(
        "avx2", "x64 AVX2+FMA: fp32 IGEMM 6x16 (FMA), int8 pointwise-after-ReLU GEMM 6x16c4 (VPMADDUBSW, pair sums bounded), conv/FC GEMM 6x16c2 over int16 rows or im2col (VPMADDWD), depthwise 16c tap pairs (VPMADDWD)",
        X64Gemm<Qs8QuadStepAvx2>);

    public static KernelSet AvxVnniSet { get; } = Create<F32Avx2, Vector256<float>, Qs8DotAvx2, Vector256<int>, Qs8DwVector128, Vector128<int>, Vector128<short>>(
        "avxvnni", "x64 AVX2+FMA + AVX-VNNI: fp32 IGEMM 6x16 (FMA), int8 pointwise/FC GEMM 6x16c4 (VPDPBUSD, any input), conv GEMM 6x16c2 over im2col, depthwise 16c tap pairs (VPMADDWD)",
        X64Gemm<Qs8QuadStepAvxVnni>);

    public static KernelSet Avx512Set { get; } = Create<F32Avx512, Vector512<float>, Qs8DotAvx512, Vector512<int>, Qs8DwVector128, Vector128<int>, Vector128<short>>(
        "avx512", "x64 AVX-512F/BW: fp32 IGEMM 6x32 (FMA), int8 pointwise-after-ReLU GEMM 6x16c4, conv/FC GEMM 6x16c2 and depthwise 16c tap pairs (AVX2)",
        X64Gemm<Qs8QuadStepAvx2>);

    public static KernelSet Avx512VnniSet { get; } = Create<F32Avx512, Vector512<float>, Qs8DotAvx512, Vector512<int>, Qs8DwVector128, Vector128<int>, Vector128<short>>(
        "avx512vnni", "x64 AVX-512F/BW + AVX-VNNI: fp32 IGEMM 6x32 (FMA), int8 pointwise/FC GEMM 6x16c4 (VPDPBUSD, any input), conv GEMM 6x16c2 over im2col and depthwise 16c tap pairs (AVX2)",
        X64Gemm<Qs8QuadStepAvxVnni>);

    public static bool Avx2Supported => Avx2.IsSupported && Fma.IsSupported;
    public static bool AvxVnniSupported => Avx2Supported && AvxVnni.IsSupported;
    public static bool Avx512Supported => Avx512F.IsSupported && Avx512BW.IsSupported;
    public static bool Avx512VnniSupported => Avx512Supported && AvxVnni.IsSupported;
    public static bool AdvSimdSupported => AdvSimd.Arm64.IsSupported;
    public static bool DpSupported => AdvSimd.Arm64.IsSupported && Dp.IsSupported;

    /// <summary>
    /// <paramref name="set"/> under another name with both int8 kernels over int8 products
    /// (<see cref="WithInt8ProductGemm{TStep}"/>, <see cref="WithInt8ProductDepthwise{TStep}"/>).
    /// </summary>
    public static KernelSet WithInt8Products<TGemmStep, TDwStep>(KernelSet set, string name, string description)
        where TGemmStep : struct, IQs8Dot16 where TDwStep : struct, IQs8DwTapPairStep =>
        WithInt8ProductDepthwise<TDwStep>(WithInt8ProductGemm<TGemmStep>(set)) with { Name = name, Description = description };

    /// <summary>
    /// <paramref name="set"/> with its int8 convolutions and fully connected layers run by <see cref="Qs8GemmC16{TStep}"/>
    /// where that covers them (weights in [-127, 127], 8 or more window values), by the set's own kernels elsewhere.
    /// </summary>
    public static KernelSet WithInt8ProductGemm<TStep>(KernelSet set) where TStep : struct, IQs8Dot16
    {
        var conv = set.Qs8Conv2D;
        var fullyConnected = set.Qs8FullyConnected;
        return set with
        {
            Qs8Conv2D = (in ConvGeometry g, int zp, Qs8OutputParams p, ReadOnlySpan<sbyte> filter, ReadOnlySpan<int> bias) =>
                Qs8GemmC16<TStep>.Covers(g, filter) ? new Qs8GemmC16<TStep>(g, zp, p, filter, bias) : conv(g, zp, p, filter, bias),
            Qs8FullyConnected = (batch, inputDepth, outputDepth, zp, filterZp, p, filter, bias) =>
                filterZp == 0 && Qs8GemmC16<TStep>.Covers(FullyConnectedGeometry.Of(batch, inputDepth, outputDepth), filter)
                    ? new Qs8GemmC16<TStep>(FullyConnectedGeometry.Of(batch, inputDepth, outputDepth), zp, p, filter, bias)
                    : fullyConnected(batch, inputDepth, outputDepth, zp, filterZp, p, filter, bias),
        };
    }

    /// <summary>
    /// <paramref name="set"/> with its int8 depthwise layers run by <see cref="Qs8DwConvTapPairs{TStep}"/> where that covers
    /// them (depth multiplier 1, weights in [-127, 127]), by the set's own kernel elsewhere.
    /// </summary>
    public static KernelSet WithInt8ProductDepthwise<TStep>(KernelSet set) where TStep : struct, IQs8DwTapPairStep
    {
        var depthwise = set.Qs8DepthwiseConv2D;
        return set with
        {
            Qs8DepthwiseConv2D = (in ConvGeometry g, int zp, Qs8OutputParams p, ReadOnlySpan<sbyte> filter, ReadOnlySpan<int> bias) =>
                Qs8DwConvTapPairs<TStep>.Covers(g, filter) ? new Qs8DwConvTapPairs<TStep>(g, zp, p, filter, bias) : depthwise(g, zp, p, filter, bias),
        };
    }

    /// <summary>An x64 set's int8 GEMM for a convolution or fully connected geometry, or null where none covers it.</summary>
    private delegate Qs8ConvolutionKernel? X64Int8Gemm(in ConvGeometry g, int inputZeroPoint, Qs8OutputParams p,
        ReadOnlySpan<sbyte> filter, ReadOnlySpan<int> bias);

    /// <summary>The c4 GEMM where it pays with this quad step, else the c2 GEMM (input rows or im2col) where it covers.</summary>
    private static Qs8ConvolutionKernel? X64Gemm<TStep>(in ConvGeometry g, int zp, Qs8OutputParams p, ReadOnlySpan<sbyte> filter,
        ReadOnlySpan<int> bias) where TStep : struct, IQs8QuadStep =>
        Qs8GemmC4<TStep>.Pays(g, zp) ? new Qs8GemmC4<TStep>(g, zp, p, filter, bias)
        : Qs8GemmC2Avx2.Covers(g) ? new Qs8GemmC2Avx2(g, zp, p, filter, bias)
        : null;

    /// <param name="x64Gemm">The x64 int8 GEMMs, AVX2 depthwise and add; null for the generic int8 kernels.</param>
    private static KernelSet Create<TF, TFV, TQ, TQV, TD, TDV, TDP>(string name, string description, X64Int8Gemm? x64Gemm = null)
        where TF : struct, IF32Ops<TFV> where TFV : struct
        where TQ : struct, IQs8Dot<TQ, TQV> where TQV : struct
        where TD : struct, IQs8DwOps<TDV, TDP> where TDV : struct where TDP : struct
    {
        bool x64Int8 = x64Gemm is not null;
        return new KernelSet(name, description,
            (in ConvGeometry g, ReadOnlySpan<float> filter, ReadOnlySpan<float> bias, float min, float max) =>
                new F32Igemm<TF, TFV>(g, filter, bias, min, max),
            (in ConvGeometry g, ReadOnlySpan<float> filter, ReadOnlySpan<float> bias, float min, float max) =>
                g.DepthMultiplier == 1 && g.InC == g.OutC
                    ? new F32DwConv<TF, TFV>(g, filter, bias, min, max)
                    : ReferencePrepared.F32DepthwiseConv2D(g, filter, bias, min, max),
            (batch, inputDepth, outputDepth, filter, bias, min, max) =>
                new F32Igemm<TF, TFV>(FullyConnectedGeometry.Of(batch, inputDepth, outputDepth), filter, bias, min, max),
            F32AddSimd.Add, AveragePoolSimd.F32, AveragePoolSimd.F32Global,
            (in ConvGeometry g, int zp, Qs8OutputParams p, ReadOnlySpan<sbyte> filter, ReadOnlySpan<int> bias) =>
                x64Gemm?.Invoke(g, zp, p, filter, bias) ?? new Qs8Igemm<TQ, TQV>(g, zp, p, filter, bias),
            (in ConvGeometry g, int zp, Qs8OutputParams p, ReadOnlySpan<sbyte> filter, ReadOnlySpan<int> bias) =>
                g.DepthMultiplier == 1 && g.InC == g.OutC
                    ? x64Int8 ? new Qs8DwConvAvx2(g, zp, p, filter, bias) : new Qs8DwConv<TD, TDV, TDP>(g, zp, p, filter, bias)
                    : ReferencePrepared.Qs8DepthwiseConv2D(g, zp, p, filter, bias),
            (batch, inputDepth, outputDepth, zp, filterZp, p, filter, bias) =>
                filterZp != 0 ? ReferencePrepared.Qs8FullyConnected(batch, inputDepth, outputDepth, zp, filterZp, p, filter, bias)
                : x64Gemm?.Invoke(FullyConnectedGeometry.Of(batch, inputDepth, outputDepth), zp, p, filter, bias)
                  ?? new Qs8Igemm<TQ, TQV>(FullyConnectedGeometry.Of(batch, inputDepth, outputDepth), zp, p, filter, bias),
            x64Int8 ? Qs8AddSimd.AddAvx2 : Qs8AddSimd.Add, AveragePoolSimd.Qs8, AveragePoolSimd.Qs8Global);
    }
}
