using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeMobileNet.Kernels;
using EdgeMobileNet.Kernels.Conformance;
using EdgeMobileNet.Kernels.Dispatch;
using EdgeMobileNet.Kernels.Quantization;
using EdgeMobileNet.Kernels.Simd;
using Xunit;

namespace EdgeMobileNet.Tests.Kernels;

/// <summary>Every supported optimized kernel set, every family, against the reference (via KernelConformance).</summary>
public class KernelSetConformanceTests
{
    public static TheoryData<string, string> SetsAndFamilies()
    {
        var data = new TheoryData<string, string>();
        foreach (var set in KernelRegistry.Supported.Where(s => s != KernelSet.Reference))
            foreach (var (family, _) in KernelConformance.Families)
                data.Add(set.Name, family);
        // The portable twin of the AdvSimd int8-product kernels (not in the registry): the families that reach them (its
        // add and pooling are the vector128 set's, checked above).
        foreach (var (family, _) in KernelConformance.Families.Where(f => f.Family.StartsWith("qs8-conv2d", StringComparison.Ordinal)
                     || f.Family.StartsWith("qs8-dwconv2d", StringComparison.Ordinal) || f.Family == "qs8-fully-connected"))
            data.Add(SimdKernelSets.Vector128Int8ProductsSet.Name, family);
        return data;
    }

    [Theory]
    [MemberData(nameof(SetsAndFamilies))]
    public void FamilyMatchesReference(string setName, string family)
    {
        var set = setName == SimdKernelSets.Vector128Int8ProductsSet.Name ? SimdKernelSets.Vector128Int8ProductsSet : KernelRegistry.Select(setName);
        var check = KernelConformance.Families.Single(f => f.Family == family).Check;
        var failures = check(set, 1234, 60);
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public void PortableAndX64SetsAreRegisteredBestFirst()
    {
        var names = KernelRegistry.All.Select(e => e.Set.Name).ToList();
        Assert.Equal(["avx512vnni", "avx512", "avxvnni", "avx2", "dp", "advsimd", "vector128", "reference"], names);
        Assert.Contains(KernelRegistry.Supported, s => s.Name == "vector128");
        if (SimdKernelSets.Avx2Supported) Assert.Contains(KernelRegistry.Supported.First().Name, new[] { "avx512vnni", "avx512", "avxvnni", "avx2" });
        Assert.Equal(SimdKernelSets.AvxVnniSupported, KernelRegistry.Supported.Any(s => s.Name == "avxvnni"));
    }

    /// <summary>
    /// The avx2 set's int8 dispatch: the 6x16c2 GEMM on input rows for pointwise and FC, on im2col rows for other
    /// windows; the 6x16c4 VPMADDUBSW GEMM for pointwise layers after a ReLU (input zero point -128) of depth 32 or
    /// more with at least as many outputs as inputs, or of depth 192 or more over at least 14x14 pixels.
    /// </summary>
    [Fact]
    public void Avx2PicksTheC2GemmForEveryWindowUpToItsDepthLimit()
    {
        if (!SimdKernelSets.Avx2Supported) return; // nothing to dispatch on this CPU; the other sets are checked above
        var set = KernelRegistry.Select("avx2");
        var requant = Qs8OutputParams.FromScales(1.0, [0.001f], 1.0, 0, -128, 127);
        string Conv(int kernel, int stride, int inC, int zp = 0, int outC = 8, int size = 8) =>
            set.Qs8Conv2D(new ConvGeometry(1, size, size, inC, size / stride, size / stride, outC, kernel, kernel, stride, stride, 1, 1,
                kernel / 2, kernel / 2), zp, requant, new sbyte[outC * kernel * kernel * inC], new int[outC]).Name;
        Assert.Equal("Qs8Gemm_6x16c4_Avx2", Conv(1, 1, 32, zp: -128, outC: 32));
        Assert.Equal("Qs8Gemm_6x16c4_Avx2", Conv(1, 1, 512, zp: -128, outC: 1024));
        Assert.Equal("Qs8Gemm_6x16c2_Avx2", Conv(1, 1, 512, zp: -127, outC: 1024));
        Assert.Equal("Qs8Gemm_6x16c2_Avx2", Conv(1, 1, 31, zp: -128, outC: 64));
        Assert.Equal("Qs8Gemm_6x16c2_Avx2", Conv(1, 1, 576, zp: -128, outC: 96));
        // Projections (fewer outputs than inputs): from depth 192 over 14x14 pixels or more.
        Assert.Equal("Qs8Gemm_6x16c4_Avx2", Conv(1, 1, 576, zp: -128, outC: 96, size: 14));
        Assert.Equal("Qs8Gemm_6x16c4_Avx2", Conv(1, 1, 192, zp: -128, outC: 32, size: 28));
        Assert.Equal("Qs8Gemm_6x16c2_Avx2", Conv(1, 1, 576, zp: -128, outC: 96, size: 13));
        Assert.Equal("Qs8Gemm_6x16c2_Avx2", Conv(1, 1, 191, zp: -128, outC: 32, size: 28));
        Assert.Equal("Qs8Gemm_6x16c2_Avx2", Conv(1, 1, 576, zp: -127, outC: 96, size: 14));
        Assert.Equal("Qs8Im2colGemm_6x16c2_Avx2", Conv(3, 1, 32, zp: -128, outC: 64));
        Assert.Equal("Qs8Gemm_6x16c2_Avx2", Conv(1, 1, 32));
        Assert.Equal("Qs8Gemm_6x16c2_Avx2", Conv(1, 1, 15));
        Assert.Equal("Qs8Im2colGemm_6x16c2_Avx2", Conv(3, 1, 32));
        Assert.Equal("Qs8Im2colGemm_6x16c2_Avx2", Conv(1, 2, 32));
        Assert.StartsWith("Qs8Igemm_", Conv(3, 1, 1000)); // 9000 window values: past the GEMM's staging limit
        Assert.Equal("Qs8Gemm_6x16c2_Avx2", set.Qs8FullyConnected(1, 64, 10, 0, 0, requant, new sbyte[640], new int[10]).Name);
        Assert.Equal("Qs8Gemm_6x16c2_Avx2", set.Qs8FullyConnected(1, 8, 10, 0, 0, requant, new sbyte[80], new int[10]).Name);
        Assert.StartsWith("Qs8Igemm_", set.Qs8FullyConnected(1, 9000, 10, 0, 0, requant, new sbyte[90000], new int[10]).Name);
    }

    /// <summary>
    /// The advsimd set (and its portable twin) runs int8 convolutions and fully connected layers on the 2x8c16 GEMM
    /// (windows through im2col rows) when the weights stay in [-127, 127] and there are 8 to 8192 window values; a
    /// single -128 weight, fewer values or more keeps the 4x8c2 IGEMM, whose int16 products cannot overflow. Depthwise likewise:
    /// tap pairs over int8 products, or the int16 kernel for a filter holding -128.
    /// </summary>
    [Fact]
    public void AdvSimdSetPicksTheInt8ProductKernelsOnlyWhereTheirPairSumsFitInt16()
    {
        var requant = Qs8OutputParams.FromScales(1.0, [0.001f], 1.0, 0, -128, 127);
        foreach (var (set, isa) in new[] { (SimdKernelSets.AdvSimdSet, "AdvSimd"), (SimdKernelSets.Vector128Int8ProductsSet, "Vector128") })
        {
            string Conv(int kernel, int stride, int inC, sbyte weight = 1, int outC = 8)
            {
                var filter = new sbyte[outC * kernel * kernel * inC];
                Array.Fill(filter, (sbyte)-127);
                filter[^1] = weight;
                return set.Qs8Conv2D(new ConvGeometry(1, 8, 8, inC, 8 / stride, 8 / stride, outC, kernel, kernel, stride, stride, 1, 1,
                    kernel / 2, kernel / 2), 0, requant, filter, new int[outC]).Name;
            }
            Assert.Equal($"Qs8Gemm_2x8c16_{isa}", Conv(1, 1, 64));
            Assert.Equal($"Qs8Gemm_2x8c16_{isa}", Conv(1, 1, 8, weight: 127));
            Assert.StartsWith("Qs8Igemm_4x8c2_", Conv(1, 1, 64, weight: -128));
            Assert.StartsWith("Qs8Igemm_4x8c2_", Conv(1, 1, 7));
            Assert.Equal($"Qs8Im2colGemm_2x8c16_{isa}", Conv(3, 1, 64));
            Assert.Equal($"Qs8Im2colGemm_2x8c16_{isa}", Conv(1, 2, 64));
            Assert.Equal($"Qs8Im2colGemm_2x8c16_{isa}", Conv(3, 2, 3)); // MobileNet's first layer: 27 window values
            Assert.StartsWith("Qs8Igemm_4x8c2_", Conv(3, 2, 3, weight: -128));
            Assert.StartsWith("Qs8Igemm_4x8c2_", Conv(1, 2, 7));
            Assert.StartsWith("Qs8Igemm_4x8c2_", Conv(3, 1, 1000)); // 9000 window values: past the staging limit
            var fc = new sbyte[10 * 64];
            Assert.Equal($"Qs8Gemm_2x8c16_{isa}", set.Qs8FullyConnected(1, 64, 10, 0, 0, requant, fc, new int[10]).Name);
            fc[17] = sbyte.MinValue;
            Assert.StartsWith("Qs8Igemm_4x8c2_", set.Qs8FullyConnected(1, 64, 10, 0, 0, requant, fc, new int[10]).Name);
            var g = new ConvGeometry(1, 8, 8, 24, 8, 8, 24, 3, 3, 1, 1, 1, 1, 1, 1);
            var dw = new sbyte[9 * 24];
            Array.Fill(dw, (sbyte)127);
            Assert.Equal($"Qs8DwConv3x3_16c_TapPairs_{isa}", set.Qs8DepthwiseConv2D(g, 0, requant, dw, new int[24]).Name);
            dw[100] = sbyte.MinValue;
            Assert.Equal($"Qs8DwConv3x3_8c_{isa}", set.Qs8DepthwiseConv2D(g, 0, requant, dw, new int[24]).Name);
        }
        // The dp set keeps SDOT for its GEMM and takes the tap pairs for depthwise.
        var dp = SimdKernelSets.DpSet;
        Assert.StartsWith("Qs8Igemm_4x8c4_Dp", dp.Qs8Conv2D(new ConvGeometry(1, 8, 8, 64, 8, 8, 8, 1, 1, 1, 1, 1, 1, 0, 0), 0, requant,
            new sbyte[8 * 64], new int[8]).Name);
        Assert.Equal("Qs8DwConv3x3_16c_TapPairs_AdvSimd", dp.Qs8DepthwiseConv2D(new ConvGeometry(1, 8, 8, 24, 8, 8, 24, 3, 3, 1, 1, 1, 1, 1, 1),
            0, requant, new sbyte[9 * 24], new int[24]).Name);
    }

    /// <summary>Both AVX2 int8 GEMMs refuse packing arguments of the wrong size, naming the kernel and the counts.</summary>
    [Fact]
    public void Avx2GemmsRefuseWrongSizedPackingArguments()
    {
        if (!SimdKernelSets.Avx2Supported) return; // the kernels cannot be built on this CPU
        var g = new ConvGeometry(1, 4, 4, 40, 4, 4, 48, 1, 1, 1, 1, 1, 1, 0, 0);
        var one = Qs8OutputParams.FromScales(1.0, [0.001f], 1.0, 0, -128, 127);
        var three = Qs8OutputParams.FromScales(1.0, [0.001f, 0.001f, 0.001f], 1.0, 0, -128, 127);
        foreach (var build in new Func<Qs8OutputParams, sbyte[], int[], Qs8ConvolutionKernel>[]
                 {
                     (p, f, b) => new Qs8GemmC2Avx2(g, -128, p, f, b),
                     (p, f, b) => new Qs8GemmC4<Qs8QuadStepAvx2>(g, -128, p, f, b),
                 })
        {
            Assert.Contains("filter has 1919 elements, expected 1920", Assert.Throws<ArgumentException>(() => build(one, new sbyte[1919], new int[48])).Message);
            Assert.Contains("bias has 47 elements, expected 48", Assert.Throws<ArgumentException>(() => build(one, new sbyte[1920], new int[47])).Message);
            Assert.Contains("3 multipliers for 48 output channels", Assert.Throws<ArgumentException>(() => build(three, new sbyte[1920], new int[48])).Message);
            Assert.Contains("Qs8Gemm_6x16c", Assert.Throws<ArgumentException>(() => build(one, new sbyte[1919], new int[48])).Message);
            Assert.Equal(48, build(one, new sbyte[1920], []).Geometry.OutC); // an empty bias is no bias
        }
    }

    /// <summary>
    /// The VPMADDUBSW GEMM at every zero point the pointwise families generate, not only at -128 where dispatch
    /// picks it (its weight sums then cancel out of the bias): it covers any pointwise layer and must be exact on all.
    /// </summary>
    [Theory]
    [MemberData(nameof(PointwiseAndFullyConnectedFamilies))]
    public void VpmaddubswGemmMatchesReferenceAtAnyZeroPoint(string family)
    {
        if (!SimdKernelSets.Avx2Supported) return; // the kernel cannot be built on this CPU
        var failures = KernelConformance.Families.Single(x => x.Family == family).Check(C4Everywhere<Qs8QuadStepAvx2>(), 4321, 60);
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures.Take(5)));
    }

    /// <summary>
    /// The c4 GEMM as the VNNI sets run it (rows of u = x + 128 unbounded, no excess), its quad step VPDPBUSD's
    /// arithmetic from AVX2 instructions that cannot saturate (<see cref="ExactQuadStepOnAvx2"/>): this machine has
    /// no VNNI, so everything but the one instruction is checked here.
    /// </summary>
    [Theory]
    [MemberData(nameof(PointwiseAndFullyConnectedFamilies))]
    public void UnboundedC4GemmMatchesReferenceWithAnExactQuadStep(string family)
    {
        if (!SimdKernelSets.Avx2Supported) return; // the emulated step needs AVX2
        Assert.True(Qs8GemmC4<ExactQuadStepOnAvx2>.Pays(new ConvGeometry(1, 4, 4, 8, 4, 4, 4, 1, 1, 1, 1, 1, 1, 0, 0), 37),
            "a step that cannot saturate pays on any pointwise layer at any zero point");
        var failures = KernelConformance.Families.Single(x => x.Family == family).Check(C4Everywhere<ExactQuadStepOnAvx2>(), 4321, 60);
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures.Take(5)));
    }

    /// <summary>
    /// The staging is what keeps VPMADDUBSW exact: declared unable to saturate, the AVX2 step gets unbounded rows and
    /// the families' generated inputs must expose it.
    /// </summary>
    [Fact]
    public void VpmaddubswOnUnboundedRowsFailsTheReference()
    {
        if (!SimdKernelSets.Avx2Supported) return; // the kernel cannot be built on this CPU
        var failures = KernelConformance.Families.Single(x => x.Family == "qs8-conv2d-1x1-pointwise").Check(C4Everywhere<VpmaddubswClaimedExact>(), 4321, 60);
        Assert.NotEmpty(failures);
    }

    /// <summary>The conformance families whose layers the c4 GEMM covers: pointwise convolutions and fully connected.</summary>
    public static TheoryData<string> PointwiseAndFullyConnectedFamilies() =>
        ["qs8-conv2d-1x1", "qs8-conv2d-1x1-pointwise", "qs8-conv2d-1x1-accumulator-limits", "qs8-conv2d-1x1-relu-inputs", "qs8-fully-connected"];

    /// <summary>The avx2 set with every pointwise convolution and fully connected layer on the c4 GEMM with <typeparamref name="TStep"/>.</summary>
    private static KernelSet C4Everywhere<TStep>() where TStep : struct, IQs8QuadStep
    {
        var avx2 = KernelRegistry.Select("avx2");
        return avx2 with
        {
            Name = $"avx2-c4-{TStep.Isa}-everywhere",
            Qs8Conv2D = (in ConvGeometry g, int zp, Qs8OutputParams p, ReadOnlySpan<sbyte> f, ReadOnlySpan<int> b) =>
                Qs8GemmC4<TStep>.Covers(g) ? new Qs8GemmC4<TStep>(g, zp, p, f, b) : avx2.Qs8Conv2D(g, zp, p, f, b),
            Qs8FullyConnected = (batch, inputDepth, outputDepth, zp, filterZp, p, f, b) =>
                filterZp == 0 ? new Qs8GemmC4<TStep>(FullyConnectedGeometry.Of(batch, inputDepth, outputDepth), zp, p, f, b)
                : avx2.Qs8FullyConnected(batch, inputDepth, outputDepth, zp, filterZp, p, f, b),
        };
    }

    /// <summary>VPDPBUSD's arithmetic (four u8 x s8 products added into int32 without saturation) in AVX2: even and odd bytes widened to int16, two VPMADDWD.</summary>
    private readonly struct ExactQuadStepOnAvx2 : IQs8QuadStep
    {
        public static string Isa => "Avx2Exact";
        public static bool IsSupported => Avx2.IsSupported;
        public static bool SaturatesPairs => false;

        public static Vector256<int> MultiplyAdd(Vector256<int> acc, Vector256<byte> x, Vector256<sbyte> weights, Vector256<short> ones)
        {
            var xEven = Avx2.And(x.AsInt16(), Vector256.Create((short)0xFF));
            var xOdd = Avx2.ShiftRightLogical(x.AsInt16(), 8);
            var wEven = Avx2.ShiftRightArithmetic(Avx2.ShiftLeftLogical(weights.AsInt16(), 8), 8);
            var wOdd = Avx2.ShiftRightArithmetic(weights.AsInt16(), 8);
            return Avx2.Add(acc, Avx2.Add(Avx2.MultiplyAddAdjacent(xEven, wEven), Avx2.MultiplyAddAdjacent(xOdd, wOdd)));
        }
    }

    /// <summary>The AVX2 step with its saturation denied: a deliberately broken kernel.</summary>
    private readonly struct VpmaddubswClaimedExact : IQs8QuadStep
    {
        public static string Isa => "Avx2Unbounded";
        public static bool IsSupported => Avx2.IsSupported;
        public static bool SaturatesPairs => false;

        public static Vector256<int> MultiplyAdd(Vector256<int> acc, Vector256<byte> x, Vector256<sbyte> weights, Vector256<short> ones) =>
            Qs8QuadStepAvx2.MultiplyAdd(acc, x, weights, ones);
    }

    /// <summary>GEMM kernels split by whole register tiles of pixels (a 14x14 layer: 196 pixels); others cannot.</summary>
    [Fact]
    public void GemmKernelsSplitByPixelGroupsOfTheirTile()
    {
        var g = new ConvGeometry(1, 14, 14, 40, 14, 14, 24, 1, 1, 1, 1, 1, 1, 0, 0);
        var dw = new ConvGeometry(1, 14, 14, 24, 14, 14, 24, 3, 3, 1, 1, 1, 1, 1, 1);
        var p = Qs8OutputParams.FromScales(1.0, [0.001f], 1.0, -128, -128, 127);
        foreach (var set in KernelRegistry.Supported.Where(s => s != KernelSet.Reference))
        {
            foreach (var kernel in new object[] { set.F32Conv2D(g, new float[24 * 40], [], 0, 6), set.Qs8Conv2D(g, -128, p, new sbyte[24 * 40], []) })
            {
                var (tile, groups, name) = kernel switch
                {
                    F32ConvolutionKernel f => (f.TilePixels, f.PixelGroups, f.Name),
                    Qs8ConvolutionKernel q => (q.TilePixels, q.PixelGroups, q.Name),
                    _ => throw new InvalidOperationException(),
                };
                // The unit is the register tile the name states (F32Igemm_6x16_Avx2, Qs8Igemm_4x8c2_AdvSimd: 6 and 4 pixels).
                var rows = System.Text.RegularExpressions.Regex.Match(name, @"_(\d+)x\d+").Groups[1].Value;
                Assert.True(int.Parse(rows) == tile, $"{set.Name} {name}: {tile} pixels per pixel group");
                Assert.Equal((196 + tile - 1) / tile, groups);
            }
            var f32 = set.F32Conv2D(g, new float[24 * 40], [], 0, 6);
            var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
                f32.RunPixelGroups(new float[196 * 40], new float[196 * 24], f32.PixelGroups - 1, 2));
            Assert.Contains($"outside [0, {f32.PixelGroups})", error.Message);
            var depthwise = set.F32DepthwiseConv2D(dw, new float[9 * 24], [], 0, 6);
            Assert.Equal(0, depthwise.PixelGroups);
            Assert.Throws<NotSupportedException>(() => depthwise.RunPixelGroups(new float[196 * 24], new float[196 * 24], 0, 1));
        }
    }

    [Fact]
    public void UnsupportedSetIsRefused()
    {
        var unsupported = KernelRegistry.All.Where(e => !e.Supported).Select(e => e.Set.Name).ToList();
        foreach (var name in unsupported) Assert.Throws<ArgumentException>(() => KernelRegistry.Select(name));
        Assert.Throws<ArgumentException>(() => KernelRegistry.Select("no-such-isa"));
    }

    /// <summary>The harness must catch a kernel that is wrong by one unit in one channel, or wrong only on row or pixel-group ranges.</summary>
    [Fact]
    public void DeliberatelyBrokenKernelsFail()
    {
        var good = KernelRegistry.Select("vector128");
        var offByOne = good with
        {
            Name = "broken-off-by-one",
            Qs8Conv2D = (in ConvGeometry g, int zp, Qs8OutputParams p, ReadOnlySpan<sbyte> f, ReadOnlySpan<int> b) =>
                new OffByOne(good.Qs8Conv2D(g, zp, p, f, b)),
            F32DepthwiseConv2D = (in ConvGeometry g, ReadOnlySpan<float> f, ReadOnlySpan<float> b, float min, float max) =>
                new IgnoresRowRange(good.F32DepthwiseConv2D(g, f, b, min, max)),
            F32Conv2D = (in ConvGeometry g, ReadOnlySpan<float> f, ReadOnlySpan<float> b, float min, float max) =>
                new DropsLastPixelGroup(good.F32Conv2D(g, f, b, min, max)),
            // The clamp of x86 MAXPS/MINPS (the second operand when one is NaN): NaN becomes the lower bound.
            F32Add = (a, b, output, min, max) =>
            {
                for (int i = 0; i < a.Length; i++)
                {
                    float sum = a[i] + b[i];
                    output[i] = sum >= min ? (sum <= max ? sum : max) : min;
                }
            },
            // Divides the last channel by one pixel fewer.
            F32GlobalAveragePool = (batch, height, width, channels, input, output) =>
            {
                good.F32GlobalAveragePool(batch, height, width, channels, input, output);
                if (height * width > 1) output[^1] *= height * width / (height * width - 1f);
            },
        };
        foreach (var (family, check) in KernelConformance.Families)
        {
            var failures = check(offByOne, 99, 30);
            if (family is "qs8-conv2d-1x1" or "qs8-conv2d-1x1-pointwise" or "qs8-conv2d-1x1-accumulator-limits" or "qs8-conv2d-1x1-relu-inputs" or "qs8-conv2d-1x1-product-limits" or "qs8-conv2d-3x3" or "qs8-conv2d-3x3-s2-first-layer"
                or "f32-conv2d-3x3" or "f32-conv2d-3x3-s2-first-layer" or "f32-conv2d-1x1" or "f32-conv2d-1x1-pointwise"
                or "f32-dwconv2d-3x3" or "f32-dwconv2d-3x3-s1-same" or "f32-dwconv2d-3x3-s2-same" or "f32-dwconv2d-3x3-kilobyte-step" or "f32-dwconv2d-3x3-wide-rows" or "f32-add" or "f32-global-averagepool")
            {
                Assert.True(failures.Count > 0, $"{family}: a broken kernel passed");
                // The fp32 convolutions are wrong only when split into pixel groups: that check must be what fails.
                if (family.StartsWith("f32-conv2d", StringComparison.Ordinal))
                    Assert.Contains(failures, f => f.Contains("(pixel-group ranges)", StringComparison.Ordinal));
            }
            else
                Assert.True(failures.Count == 0, $"{family}: {string.Join("; ", failures.Take(3))}");
        }
    }

    private sealed class OffByOne(Qs8ConvolutionKernel inner) : Qs8ConvolutionKernel(inner.Geometry, "OffByOne")
    {
        public override void Run(ReadOnlySpan<sbyte> input, Span<sbyte> output, int firstRow, int rowCount)
        {
            inner.Run(input, output, firstRow, rowCount);
            int last = (firstRow + rowCount) * Geometry.OutW * Geometry.OutC - 1;
            if (rowCount > 0 && last >= 0 && output[last] < 127) output[last]++;
        }
    }

    private sealed class DropsLastPixelGroup(F32ConvolutionKernel inner) : F32ConvolutionKernel(inner.Geometry, "DropsLastPixelGroup")
    {
        public override int ColumnBlocks => inner.ColumnBlocks;
        public override int TilePixels => inner.TilePixels;

        public override void Run(ReadOnlySpan<float> input, Span<float> output, int firstRow, int rowCount) =>
            inner.Run(input, output, firstRow, rowCount);

        protected override void ComputeBlocks(ReadOnlySpan<float> input, Span<float> output, int p0, int p1, int nb0, int nb1)
        {
            if (nb0 != 0 || nb1 != ColumnBlocks)
            {
                inner.RunColumns(input, output, nb0, nb1 - nb0);
                return;
            }
            // Wrong: a range of pixel groups loses its last group.
            int first = p0 / TilePixels, count = (p1 - p0 + TilePixels - 1) / TilePixels;
            inner.RunPixelGroups(input, output, first, Math.Max(count - 1, 0));
        }
    }

    private sealed class IgnoresRowRange(F32ConvolutionKernel inner) : F32ConvolutionKernel(inner.Geometry, "IgnoresRowRange")
    {
        public override bool SupportsRowRanges => inner.SupportsRowRanges;

        public override void Run(ReadOnlySpan<float> input, Span<float> output, int firstRow, int rowCount)
        {
            // Wrong: computes only the first rows of the range.
            inner.Run(input, output, firstRow, firstRow == 0 && rowCount == Rows ? rowCount : Math.Max(rowCount - 1, 0));
        }
    }
}
