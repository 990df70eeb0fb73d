using EdgeMobileNet.Kernels;
using EdgeMobileNet.Kernels.Quantization;
using EdgeMobileNet.Kernels.Reference;
using EdgeMobileNet.Kernels.Simd;
using Xunit;

namespace EdgeMobileNet.Tests.Kernels;

public class Qs8ReferenceTests
{
    private static readonly ActivationKind[] Kinds = [ActivationKind.None, ActivationKind.Relu, ActivationKind.Relu6];

    /// <summary>Quantization parameters of one conv-like test case, and how its data is drawn.</summary>
    private sealed class Setup
    {
        public double InputScale;
        public float[] FilterScales = [];
        public double OutputScale;
        public int InputZeroPoint, OutputZeroPoint, OutputMin, OutputMax;
        public bool SmallValues;
        public Qs8OutputParams Params = null!;

        public double Effective(int channel) =>
            InputScale * FilterScales[FilterScales.Length == 1 ? 0 : channel] / OutputScale;

        public sbyte[] Input(Random rng, int count) => SmallValues
            ? Rand.Int8(rng, count, Math.Max(-128, InputZeroPoint - 2), Math.Min(127, InputZeroPoint + 2))
            : Rand.Int8(rng, count);

        public sbyte[] Filter(Random rng, int count) => SmallValues ? Rand.Int8(rng, count, -2, 2) : Rand.Int8(rng, count, -127, 127);

        public int[] Bias(Random rng, int count, double typical)
        {
            if (rng.Next(5) == 0) return [];
            var bias = new int[count];
            int bound = (int)Math.Max(3, typical);
            for (int i = 0; i < count; i++) bias[i] = rng.Next(-bound, bound + 1);
            return bias;
        }
    }

    /// <summary>
    /// Random quantization: input scale 1e-4..10, per-tensor or per-channel filter scales, output scale chosen so the
    /// outputs mostly land inside int8 - except in the modes with effective multipliers &gt; 1 on small values,
    /// heavy saturation, or multipliers so tiny every output is the zero point.
    /// </summary>
    private static Setup RandomSetup(Random rng, int outChannels, double typicalAccumulator)
    {
        var s = new Setup
        {
            InputScale = Rand.LogUniform(rng, 1e-4, 10),
            InputZeroPoint = Rand.ZeroPoint(rng),
            OutputZeroPoint = Rand.ZeroPoint(rng),
        };
        int mode = rng.Next(8);
        s.SmallValues = mode == 0;
        double baseFilterScale = Rand.LogUniform(rng, 1e-4, 1);
        s.FilterScales = rng.Next(2) == 0
            ? [(float)baseFilterScale]
            : Enumerable.Range(0, outChannels).Select(_ => (float)(baseFilterScale * Rand.LogUniform(rng, 0.5, 2))).ToArray();
        double effective = mode switch
        {
            0 => Rand.LogUniform(rng, 1, 16),                                   // multiplier > 1 (positive shift)
            1 => Rand.LogUniform(rng, 4, 100) * 128 / typicalAccumulator,      // mostly saturating
            2 => Rand.LogUniform(rng, 1e-13, 1e-9) / typicalAccumulator,       // below 2^-32: flushed to 0
            _ => Rand.LogUniform(rng, 0.2, 1.5) * 64 / typicalAccumulator,     // the normal case
        };
        s.OutputScale = s.InputScale * baseFilterScale / effective;
        var kind = Kinds[rng.Next(Kinds.Length)];
        (s.OutputMin, s.OutputMax) = FixedPoint.ActivationRange(kind, (float)s.OutputScale, s.OutputZeroPoint);
        s.Params = Qs8OutputParams.FromScales(s.InputScale, s.FilterScales, s.OutputScale, s.OutputZeroPoint,
            s.OutputMin, s.OutputMax);
        return s;
    }

    private sealed class Coverage
    {
        public int Inside, AtMin, AtMax, Total;

        public void Add(int value, int min, int max)
        {
            Total++;
            if (value == min) AtMin++;
            else if (value == max) AtMax++;
            else Inside++;
        }

        public void AssertMeaningful()
        {
            // Relu ranges and extreme output zero points clamp about half the outputs of their cases by design.
            Assert.True(Inside > Total / 5, $"only {Inside} of {Total} outputs were not clamped");
            Assert.True(AtMin > 0 && AtMax > 0, $"saturation not exercised: {AtMin} at min, {AtMax} at max");
        }
    }

    /// <summary>
    /// Checks requantized outputs against (a) the TFLite formula evaluated with Int128 arithmetic on the test's own
    /// accumulators (bit exact) and (b) the real-valued result acc * inScale * filterScale / outScale + zp (within 1).
    /// </summary>
    private static void CheckRequantized(Setup s, long[] accumulators, ReadOnlySpan<sbyte> output, int channels,
        Coverage coverage, string what)
    {
        for (int i = 0; i < accumulators.Length; i++)
        {
            int c = i % channels;
            int index = s.Params.IsPerChannel ? c : 0;
            int exact = Exact.ClampInt8(
                Exact.Mbqm((int)accumulators[i], s.Params.Multipliers[index], s.Params.Shifts[index]) + (long)s.OutputZeroPoint,
                s.OutputMin, s.OutputMax);
            Assert.True(exact == output[i], $"{what} element {i}: {output[i]}, TFLite formula gives {exact}");

            double real = accumulators[i] * s.Effective(c) + s.OutputZeroPoint;
            int rounded = Exact.ClampInt8((long)Math.Clamp(Math.Round(real, MidpointRounding.AwayFromZero), -1e6, 1e6),
                s.OutputMin, s.OutputMax);
            Assert.True(Math.Abs(rounded - output[i]) <= 1, $"{what} element {i}: {output[i]} vs real {real}");
            coverage.Add(output[i], s.OutputMin, s.OutputMax);
        }
    }

    /// <summary>Test-local int8 conv accumulators: im2col with (input - zp) patches (padding = 0), dot with the filter rows.</summary>
    private static long[] ConvAccumulators(ConvGeometry g, sbyte[] input, int inputZeroPoint, sbyte[] denseFilter, int[] bias)
    {
        int k = g.KernelH * g.KernelW * g.InC;
        var acc = new long[g.Batch * g.OutH * g.OutW * g.OutC];
        var patch = new long[k];
        for (int b = 0; b < g.Batch; b++)
        for (int oy = 0; oy < g.OutH; oy++)
        for (int ox = 0; ox < g.OutW; ox++)
        {
            Array.Clear(patch);
            for (int ky = 0; ky < g.KernelH; ky++)
            for (int kx = 0; kx < g.KernelW; kx++)
            {
                int iy = oy * g.StrideH - g.PadTop + ky * g.DilationH;
                int ix = ox * g.StrideW - g.PadLeft + kx * g.DilationW;
                if (iy < 0 || iy >= g.InH || ix < 0 || ix >= g.InW) continue;
                for (int ic = 0; ic < g.InC; ic++)
                    patch[(ky * g.KernelW + kx) * g.InC + ic] = input[((b * g.InH + iy) * g.InW + ix) * g.InC + ic] - inputZeroPoint;
            }
            for (int oc = 0; oc < g.OutC; oc++)
            {
                long sum = bias.Length == 0 ? 0 : bias[oc];
                for (int j = 0; j < k; j++) sum += patch[j] * denseFilter[oc * k + j];
                acc[((b * g.OutH + oy) * g.OutW + ox) * g.OutC + oc] = sum;
            }
        }
        return acc;
    }

    [Fact]
    public void Conv2D_MatchesIntegerAccumulationAndTfliteRequantization()
    {
        var rng = new Random(1234);
        var coverage = new Coverage();
        for (int t = 0; t < 400; t++)
        {
            var g = Rand.Geometry(rng, GeometryKind.Conv);
            int taps = g.KernelH * g.KernelW * g.InC;
            var s = RandomSetup(rng, g.OutC, Math.Sqrt(taps) * 4500);
            sbyte[] input = s.Input(rng, g.Batch * g.InH * g.InW * g.InC);
            sbyte[] filter = s.Filter(rng, g.OutC * taps);
            int[] bias = s.Bias(rng, g.OutC, s.SmallValues ? 3 : Math.Sqrt(taps) * 4500);

            long[] expectedAcc = ConvAccumulators(g, input, s.InputZeroPoint, filter, bias);
            var acc = new int[expectedAcc.Length];
            Qs8Reference.Conv2DAccumulators(g, s.InputZeroPoint, input, filter, bias, acc);
            Assert.Equal(expectedAcc, acc.Select(a => (long)a));

            var output = new sbyte[expectedAcc.Length];
            Qs8Reference.Conv2D(g, s.InputZeroPoint, s.Params, input, filter, bias, output);
            CheckRequantized(s, expectedAcc, output, g.OutC, coverage, $"case {t} {g}");
        }
        coverage.AssertMeaningful();
    }

    [Fact]
    public void DepthwiseConv2D_MatchesIntegerAccumulationAndTfliteRequantization()
    {
        var rng = new Random(1234);
        var coverage = new Coverage();
        for (int t = 0; t < 400; t++)
        {
            var g = Rand.Geometry(rng, GeometryKind.Depthwise);
            int taps = g.KernelH * g.KernelW;
            var s = RandomSetup(rng, g.OutC, Math.Sqrt(taps) * 4500);
            sbyte[] input = s.Input(rng, g.Batch * g.InH * g.InW * g.InC);
            sbyte[] filter = s.Filter(rng, taps * g.OutC);
            int[] bias = s.Bias(rng, g.OutC, s.SmallValues ? 3 : Math.Sqrt(taps) * 4500);

            // Depthwise == dense conv with a filter that is zero except at input channel oc / DepthMultiplier.
            var dense = new sbyte[g.OutC * taps * g.InC];
            for (int oc = 0; oc < g.OutC; oc++)
            for (int k = 0; k < taps; k++)
                dense[(oc * taps + k) * g.InC + oc / g.DepthMultiplier] = filter[k * g.OutC + oc];
            long[] expectedAcc = ConvAccumulators(g, input, s.InputZeroPoint, dense, bias);
            var acc = new int[expectedAcc.Length];
            Qs8Reference.DepthwiseConv2DAccumulators(g, s.InputZeroPoint, input, filter, bias, acc);
            Assert.Equal(expectedAcc, acc.Select(a => (long)a));

            var output = new sbyte[expectedAcc.Length];
            Qs8Reference.DepthwiseConv2D(g, s.InputZeroPoint, s.Params, input, filter, bias, output);
            CheckRequantized(s, expectedAcc, output, g.OutC, coverage, $"case {t} {g}");
        }
        coverage.AssertMeaningful();
    }

    [Fact]
    public void FullyConnected_MatchesIntegerAccumulationAndTfliteRequantization()
    {
        var rng = new Random(1234);
        var coverage = new Coverage();
        for (int t = 0; t < 400; t++)
        {
            int batch = rng.Next(1, 4), inputDepth = rng.Next(1, 80), outputDepth = rng.Next(1, 18);
            var s = RandomSetup(rng, outputDepth, Math.Sqrt(inputDepth) * 4500);
            int filterZeroPoint = rng.Next(3) == 0 ? rng.Next(-10, 11) : 0;
            sbyte[] input = s.Input(rng, batch * inputDepth);
            sbyte[] filter = s.Filter(rng, outputDepth * inputDepth);
            int[] bias = s.Bias(rng, outputDepth, s.SmallValues ? 3 : Math.Sqrt(inputDepth) * 4500);

            var expectedAcc = new long[batch * outputDepth];
            for (int b = 0; b < batch; b++)
            for (int o = 0; o < outputDepth; o++)
            {
                long sum = bias.Length == 0 ? 0 : bias[o];
                for (int d = 0; d < inputDepth; d++)
                    sum += (long)(input[b * inputDepth + d] - s.InputZeroPoint) * (filter[o * inputDepth + d] - filterZeroPoint);
                expectedAcc[b * outputDepth + o] = sum;
            }
            var acc = new int[expectedAcc.Length];
            Qs8Reference.FullyConnectedAccumulators(batch, inputDepth, outputDepth, s.InputZeroPoint, filterZeroPoint,
                input, filter, bias, acc);
            Assert.Equal(expectedAcc, acc.Select(a => (long)a));

            var output = new sbyte[expectedAcc.Length];
            Qs8Reference.FullyConnected(batch, inputDepth, outputDepth, s.InputZeroPoint, filterZeroPoint, s.Params,
                input, filter, bias, output);
            CheckRequantized(s, expectedAcc, output, outputDepth, coverage, $"case {t}");
        }
        coverage.AssertMeaningful();
    }

    [Fact]
    public void Conv2D_HandComputedExample()
    {
        // 1x2x2x1 input, one 2x2 filter, no padding: acc = (10-2)*1 + (20-2)*2 + (30-2)*3 + (40-2)*4 + 100 = 380
        // multiplier 0.25 -> 95, + zp 5 = 100; with multiplier 0.5 -> 190 + 5 saturates to 127.
        var g = new ConvGeometry(1, 2, 2, 1, 1, 1, 1, 2, 2, 1, 1, 1, 1, 0, 0);
        sbyte[] input = [10, 20, 30, 40];
        sbyte[] filter = [1, 2, 3, 4];
        var output = new sbyte[1];
        Qs8Reference.Conv2D(g, 2, new Qs8OutputParams([1 << 30], [-1], 5, -128, 127), input, filter, [100], output);
        Assert.Equal(100, output[0]);
        Qs8Reference.Conv2D(g, 2, new Qs8OutputParams([1 << 30], [0], 5, -128, 127), input, filter, [100], output);
        Assert.Equal(127, output[0]);
        // Padding reads count as the zero point: a 3x3 window centred on a 1x1 input sees only the centre tap.
        var padded = new ConvGeometry(1, 1, 1, 1, 1, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1);
        Qs8Reference.Conv2D(padded, -7, new Qs8OutputParams([1 << 30], [1], 0, -128, 127), [3],
            [9, 9, 9, 9, 2, 9, 9, 9, 9], [], output);
        Assert.Equal(20, output[0]); // (3 - -7) * 2
    }

    [Fact]
    public void Add_WithEqualScalesIsExactIntegerAddition()
    {
        var rng = new Random(1234);
        for (int t = 0; t < 6; t++)
        {
            double scale = Rand.LogUniform(rng, 1e-3, 10);
            int za = Rand.ZeroPoint(rng), zb = Rand.ZeroPoint(rng), zo = Rand.ZeroPoint(rng);
            var p = Qs8AddParams.FromScales(scale, za, scale, zb, scale, zo, -128, 127);
            var a = new sbyte[65536];
            var b = new sbyte[65536];
            for (int i = 0; i < 65536; i++)
            {
                a[i] = (sbyte)(i >> 8);
                b[i] = (sbyte)i;
            }
            var output = new sbyte[65536];
            Qs8Reference.Add(p, a, b, output);
            for (int i = 0; i < 65536; i++)
                Assert.Equal(Exact.ClampInt8(a[i] - za + b[i] - zb + zo), output[i]);
        }
    }

    [Fact]
    public void Add_MatchesRealSumWithinOneLsbAndTfliteFormulaExactly()
    {
        var rng = new Random(1234);
        var coverage = new Coverage();
        for (int t = 0; t < 400; t++)
        {
            double sa = Rand.LogUniform(rng, 1e-3, 1), sb = Rand.LogUniform(rng, 1e-3, 1);
            double so = Math.Max(sa, sb) * Rand.LogUniform(rng, 0.5, 4);
            int za = Rand.ZeroPoint(rng), zb = Rand.ZeroPoint(rng), zo = Rand.ZeroPoint(rng);
            var (min, max) = FixedPoint.ActivationRange(Kinds[rng.Next(Kinds.Length)], (float)so, zo);
            var p = Qs8AddParams.FromScales(sa, za, sb, zb, so, zo, min, max);
            Assert.Equal(20, p.LeftShift);

            sbyte[] a = Rand.Int8(rng, 256), b = Rand.Int8(rng, 256);
            var output = new sbyte[256];
            Qs8Reference.Add(p, a, b, output);
            for (int i = 0; i < 256; i++)
            {
                int scaledA = Exact.Mbqm((a[i] - za) << 20, p.InputAMultiplier, p.InputAShift);
                int scaledB = Exact.Mbqm((b[i] - zb) << 20, p.InputBMultiplier, p.InputBShift);
                int exact = Exact.ClampInt8(Exact.Mbqm(scaledA + scaledB, p.OutputMultiplier, p.OutputShift) + (long)zo, min, max);
                Assert.True(exact == output[i], $"case {t} element {i}: {output[i]} vs TFLite formula {exact}");

                double real = (sa * (a[i] - za) + sb * (b[i] - zb)) / so + zo;
                int rounded = Exact.ClampInt8(Exact.RoundHalfAway(real), min, max);
                Assert.True(Math.Abs(rounded - output[i]) <= 1, $"case {t} element {i}: {output[i]} vs real {real}");
                coverage.Add(output[i], min, max);
            }
        }
        coverage.AssertMeaningful();
    }

    [Fact]
    public void AddParams_HandDerivedCase()
    {
        // twice max = 1.0: A = 0.5 -> (2^30, 0); B = 0.25 -> (2^30, -1); output 1 / 2^20 = 0.5 * 2^-19 -> (2^30, -19).
        var p = Qs8AddParams.FromScales(0.5, 3, 0.25, -4, 1.0, 7, -100, 100);
        Assert.Equal(new Qs8AddParams(20, 3, 1 << 30, 0, -4, 1 << 30, -1, 7, 1 << 30, -19, -100, 100), p);
        // Output scale 2^19 times finer than the inputs: TFLite's Prepare rejects the output multiplier >= 1.
        Assert.Throws<ArgumentOutOfRangeException>(() => Qs8AddParams.FromScales(1, 0, 1, 0, Math.Pow(2, -19), 0, -128, 127));
    }

    [Fact]
    public void AveragePool2D_RoundsHalfAwayFromZeroOverTheValidWindow()
    {
        var rng = new Random(1234);
        int ties = 0;
        for (int t = 0; t < 400; t++)
        {
            var g = Rand.Geometry(rng, GeometryKind.Pool);
            var (min, max) = FixedPoint.ActivationRange(Kinds[rng.Next(Kinds.Length)],
                (float)Rand.LogUniform(rng, 0.01, 1), Rand.ZeroPoint(rng));
            // Narrow value ranges make exact ties (x.5 averages) common.
            int lo = rng.Next(-128, 128), hi = Math.Min(127, lo + rng.Next(0, 4));
            sbyte[] input = Rand.Int8(rng, g.Batch * g.InH * g.InW * g.InC, lo, hi);
            var output = new sbyte[g.Batch * g.OutH * g.OutW * g.OutC];
            Qs8Reference.AveragePool2D(g, min, max, input, output);

            for (int b = 0; b < g.Batch; b++)
            for (int oy = 0; oy < g.OutH; oy++)
            for (int ox = 0; ox < g.OutW; ox++)
            {
                var taps = Rand.Window(g, oy, ox);
                for (int c = 0; c < g.OutC; c++)
                {
                    double sum = 0;
                    foreach (var (iy, ix) in taps) sum += input[((b * g.InH + iy) * g.InW + ix) * g.InC + c];
                    double mean = sum / taps.Count;
                    if (Math.Abs(mean - Math.Truncate(mean)) == 0.5) ties++;
                    int expected = Exact.ClampInt8(Exact.RoundHalfAway(mean), min, max);
                    Assert.Equal(expected, output[((b * g.OutH + oy) * g.OutW + ox) * g.OutC + c]);
                }
            }
        }
        Assert.True(ties > 100, $"only {ties} ties exercised");
    }

    [Theory]
    [InlineData(1, 2, 2)]
    [InlineData(-1, -2, -2)]
    [InlineData(0, -1, -1)]
    [InlineData(0, 1, 1)]
    [InlineData(-128, -127, -128)]
    [InlineData(127, 126, 127)]
    public void AveragePool2D_TwoElementTies(int a, int b, int expected)
    {
        var g = new ConvGeometry(1, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 0, 0);
        var output = new sbyte[1];
        Qs8Reference.AveragePool2D(g, -128, 127, [(sbyte)a, (sbyte)b], output);
        Assert.Equal(expected, output[0]);
    }

    [Fact]
    public void GlobalAveragePool_SameQuantizationIsTheRoundedRawMean()
    {
        var rng = new Random(1234);
        for (int t = 0; t < 300; t++)
        {
            int batch = rng.Next(1, 3), height = rng.Next(1, 10), width = rng.Next(1, 10), channels = rng.Next(1, 18);
            double scale = Rand.LogUniform(rng, 1e-3, 1);
            int zp = Rand.ZeroPoint(rng);
            var p = Qs8MeanParams.FromScales(batch, height, width, channels, scale, zp, scale, zp);
            Assert.True(p.SameQuantization);
            int lo = rng.Next(-128, 128), hi = Math.Min(127, lo + rng.Next(0, 200));
            sbyte[] input = Rand.Int8(rng, batch * height * width * channels, lo, hi);
            var output = new sbyte[batch * channels];
            Qs8Reference.GlobalAveragePool(p, input, output);

            for (int b = 0; b < batch; b++)
            for (int c = 0; c < channels; c++)
            {
                long sum = 0;
                for (int i = 0; i < height * width; i++) sum += input[(b * height * width + i) * channels + c];
                Assert.Equal(Exact.RoundHalfAway((double)sum / (height * width)), output[b * channels + c]);
            }
        }
    }

    [Fact]
    public void GlobalAveragePool_RescalingPathMatchesRealMeanAndTfliteFormula()
    {
        var rng = new Random(1234);
        var coverage = new Coverage();
        for (int t = 0; t < 300; t++)
        {
            int batch = rng.Next(1, 3), height = rng.Next(1, 10), width = rng.Next(1, 10), channels = rng.Next(1, 18);
            double si = Rand.LogUniform(rng, 1e-3, 1), so = si * Rand.LogUniform(rng, 0.05, 3);
            int zi = Rand.ZeroPoint(rng), zo = Rand.ZeroPoint(rng);
            var p = Qs8MeanParams.FromScales(batch, height, width, channels, si, zi, so, zo);
            Assert.False(p.SameQuantization);
            int n = height * width;
            double real = si / (so * n);
            Assert.True(Math.Abs(p.Multiplier * Math.Pow(2, p.Shift - 31) - real) <= real * Math.Pow(2, -31));

            sbyte[] input = Rand.Int8(rng, batch * n * channels);
            var output = new sbyte[batch * channels];
            Qs8Reference.GlobalAveragePool(p, input, output);

            for (int b = 0; b < batch; b++)
            for (int c = 0; c < channels; c++)
            {
                long centered = 0;
                for (int i = 0; i < n; i++) centered += input[(b * n + i) * channels + c] - zi;
                int exact = Exact.ClampInt8(Exact.Mbqm((int)centered, p.Multiplier, p.Shift) + (long)zo);
                Assert.Equal(exact, output[b * channels + c]);
                double expected = centered * si / so / n + zo;
                Assert.True(Math.Abs(Exact.ClampInt8(Exact.RoundHalfAway(expected)) - output[b * channels + c]) <= 1,
                    $"case {t}: {output[b * channels + c]} vs real {expected}");
                coverage.Add(output[b * channels + c], -128, 127);
            }
        }
        coverage.AssertMeaningful();
    }

    private static int FloatSoftmaxQuantized(double probability) =>
        Exact.ClampInt8(Exact.RoundHalfAway(probability * 256) - 128);

    [Fact]
    public void Softmax_IsWithinOneLsbOfFloatSoftmaxAndMonotonic()
    {
        var rng = new Random(1234);
        int exactMatches = 0, total = 0;
        for (int t = 0; t < 500; t++)
        {
            int rows = rng.Next(1, 4);
            int depth = rng.Next(6) == 0 ? rng.Next(100, 1100) : rng.Next(1, 40);
            double beta = new[] { 1.0, 0.5, 2.0 }[rng.Next(3)];
            double scale = Rand.LogUniform(rng, 0.005, 1.0);
            var p = Qs8SoftmaxParams.FromScales(beta, scale);
            int lo = rng.Next(-128, 128), hi = Math.Min(127, lo + rng.Next(0, 256));
            sbyte[] input = Rand.Int8(rng, rows * depth, lo, hi);
            var output = new sbyte[rows * depth];
            Qs8Reference.Softmax(p, rows, depth, input, output);

            for (int r = 0; r < rows; r++)
            {
                var x = input.AsSpan(r * depth, depth);
                var y = output.AsSpan(r * depth, depth);
                int max = int.MinValue;
                foreach (sbyte v in x) max = Math.Max(max, v);
                double sum = 0;
                foreach (sbyte v in x) sum += Math.Exp(beta * scale * (v - max));
                double dequantizedSum = 0;
                for (int c = 0; c < depth; c++)
                {
                    double probability = Math.Exp(beta * scale * (x[c] - max)) / sum;
                    int expected = FloatSoftmaxQuantized(probability);
                    Assert.True(Math.Abs(expected - y[c]) <= 1,
                        $"case {t} depth {depth} scale {scale} beta {beta}: {y[c]} vs float {expected} (p={probability})");
                    if (expected == y[c]) exactMatches++;
                    total++;
                    dequantizedSum += (y[c] + 128) / 256.0;
                }
                Assert.True(Math.Abs(dequantizedSum - 1) <= 1.5 * depth / 256 + 1e-9, $"row sums to {dequantizedSum}");

                // Monotonic: sorted by input, the outputs never decrease.
                var pairs = new (int X, int Y)[depth];
                for (int c = 0; c < depth; c++) pairs[c] = (x[c], y[c]);
                Array.Sort(pairs);
                for (int c = 1; c < depth; c++)
                    Assert.True(pairs[c].Y >= pairs[c - 1].Y,
                        $"case {t}: input {pairs[c].X} > {pairs[c - 1].X} but output {pairs[c].Y} < {pairs[c - 1].Y}");
            }
        }
        Assert.True(exactMatches > total * 9 / 10, $"only {exactMatches} of {total} match the rounded float exactly");
    }

    [Theory]
    [InlineData(1, 127)]     // p = 1 -> 256 - 128 saturates to 127
    [InlineData(2, 0)]       // 0.5 -> 128 - 128
    [InlineData(4, -64)]     // 0.25
    [InlineData(256, -127)]  // 1/256 -> 1 LSB
    [InlineData(300, -127)]  // 0.853 LSB -> 1
    [InlineData(600, -128)]  // sum of exps >= 512: 0.43 LSB -> 0 (TFLite itself rejects this exponent)
    [InlineData(5000, -128)] // more than 4095 terms: the Q12.19 sum saturates, still 0
    public void Softmax_UniformRows(int depth, int expected)
    {
        var p = Qs8SoftmaxParams.FromScales(1.0, 0.1);
        var input = new sbyte[depth];
        Array.Fill(input, (sbyte)17);
        var output = new sbyte[depth];
        Qs8Reference.Softmax(p, 1, depth, input, output);
        Assert.All(output, v => Assert.Equal(expected, v));
    }

    /// <summary>The table softmax the graph runs: bit-exact with the reference over scales, betas and inputs, extremes included.</summary>
    [Fact]
    public void SoftmaxTable_MatchesTheReferenceExactly()
    {
        var random = new Random(11);
        int checkedRows = 0;
        for (int i = 0; i < 300; i++)
        {
            double beta = i % 7 == 0 ? 1.0 : 0.05 + random.NextDouble() * 4;
            double scale = i % 5 == 0 ? 1.0 / 256 : Math.Pow(10, random.NextDouble() * 3 - 3); // 0.001 .. 1: DiffMin cuts in
            var p = Qs8SoftmaxParams.FromScales(beta, scale);
            int rows = random.Next(1, 4), depth = random.Next(1, 1100);
            var input = new sbyte[rows * depth];
            for (int k = 0; k < input.Length; k++)
                input[k] = (i % 4) switch { 0 => (sbyte)random.Next(-128, 128), 1 => (sbyte)(k % 2 == 0 ? -128 : 127), 2 => (sbyte)-128, _ => (sbyte)random.Next(100, 128) };
            var expected = new sbyte[input.Length];
            var actual = new sbyte[input.Length];
            Array.Fill(actual, (sbyte)0x55);
            Qs8Reference.Softmax(p, rows, depth, input, expected);
            new Qs8SoftmaxTable(p).Run(rows, depth, input, actual);
            Assert.Equal(expected, actual);
            checkedRows += rows;
        }
        Assert.True(checkedRows >= 300);
    }

    [Fact]
    public void Softmax_EmptyRowsAreANoOp() =>
        Qs8Reference.Softmax(Qs8SoftmaxParams.FromScales(1.0, 0.1), 3, 0, [], []);

    [Fact]
    public void Softmax_EntriesBelowDiffMinGetTheMinimum()
    {
        // scale 1: beta * scale * 2^26 = 0.5 * 2^27 -> left shift 27, radius floor(31 * 2^26 / 2^27) = 15.
        var p = Qs8SoftmaxParams.FromScales(1.0, 1.0);
        Assert.Equal(-15, p.DiffMin);
        sbyte[] input = [100, 84, 85, 99];
        var output = new sbyte[4];
        Qs8Reference.Softmax(p, 1, 4, input, output);
        double e1 = Math.Exp(-1), sum = 1 + e1 + Math.Exp(-15);
        Assert.Equal(new[] { FloatSoftmaxQuantized(1 / sum), -128, -128, FloatSoftmaxQuantized(e1 / sum) },
            output.Select(v => (int)v).ToArray());
    }

    [Fact]
    public void Requantize_IdentityAndZeroPointShiftAreExact()
    {
        FixedPoint.QuantizeMultiplier(1.0, out int m, out int shift);
        var all = new sbyte[256];
        for (int i = 0; i < 256; i++) all[i] = (sbyte)(i - 128);
        var output = new sbyte[256];
        foreach (var (zi, zo) in new[] { (0, 0), (-128, -128), (5, 5), (-128, 127), (127, -128), (3, -20) })
        {
            Qs8Reference.Requantize(all, zi, m, shift, zo, output);
            for (int i = 0; i < 256; i++) Assert.Equal(Exact.ClampInt8(all[i] - zi + zo), output[i]);
        }
    }

    [Fact]
    public void Requantize_MatchesRealRescaleAndTfliteFormula()
    {
        var rng = new Random(1234);
        var all = new sbyte[256];
        for (int i = 0; i < 256; i++) all[i] = (sbyte)(i - 128);
        var output = new sbyte[256];
        for (int t = 0; t < 400; t++)
        {
            double ratio = Rand.LogUniform(rng, 1e-3, 100);
            int zi = Rand.ZeroPoint(rng), zo = Rand.ZeroPoint(rng);
            FixedPoint.QuantizeMultiplier(ratio, out int m, out int shift);
            Qs8Reference.Requantize(all, zi, m, shift, zo, output);
            for (int i = 0; i < 256; i++)
            {
                Assert.Equal(Exact.ClampInt8(Exact.Mbqm(all[i] - zi, m, shift) + (long)zo), output[i]);
                double real = (all[i] - zi) * ratio + zo;
                int rounded = Exact.ClampInt8(Exact.RoundHalfAway(Math.Clamp(real, -1e6, 1e6)));
                Assert.True(Math.Abs(rounded - output[i]) <= 1, $"ratio {ratio}: {output[i]} vs {real}");
            }
        }
    }

    [Fact]
    public void Kernels_RejectBadArguments()
    {
        var g = new ConvGeometry(1, 3, 3, 2, 3, 3, 4, 3, 3, 1, 1, 1, 1, 1, 1);
        var ok = new Qs8OutputParams([1 << 30], [-3], 0, -128, 127);
        var input = new sbyte[18];
        var filter = new sbyte[4 * 9 * 2];
        var output = new sbyte[36];
        Assert.Equal("input", Assert.Throws<ArgumentException>(
            () => Qs8Reference.Conv2D(g, 0, ok, input.AsSpan(1), filter, [], output)).ParamName);
        Assert.Equal("bias", Assert.Throws<ArgumentException>(
            () => Qs8Reference.Conv2D(g, 0, ok, input, filter, new int[3], output)).ParamName);
        Assert.Equal("accumulators", Assert.Throws<ArgumentException>(
            () => Qs8Reference.Conv2DAccumulators(g, 0, input, filter, [], new int[35])).ParamName);
        Assert.Equal("outputParams", Assert.Throws<ArgumentException>(() => Qs8Reference.Conv2D(g, 0,
            new Qs8OutputParams([1, 2, 3], [0, 0, 0], 0, -128, 127), input, filter, [], output)).ParamName);
        Assert.Equal("outputParams", Assert.Throws<ArgumentException>(() => Qs8Reference.Conv2D(g, 0,
            new Qs8OutputParams([1 << 30], [0], 0, -129, 127), input, filter, [], output)).ParamName);
        Assert.Equal("outputParams", Assert.Throws<ArgumentException>(() => Qs8Reference.Conv2D(g, 0,
            new Qs8OutputParams([1 << 30], [31], 0, -128, 127), input, filter, [], output)).ParamName);
        Assert.Equal("g", Assert.Throws<ArgumentException>(
            () => Qs8Reference.DepthwiseConv2D(g, 0, ok, input, new sbyte[36], [], output)).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(
            () => Qs8Reference.Add(default(Qs8AddParams) with { OutputMin = -128, OutputMax = 127 },
                new sbyte[4], new sbyte[4], new sbyte[3])).ParamName);
        Assert.Equal("p", Assert.Throws<ArgumentException>(
            () => Qs8Reference.Add(default(Qs8AddParams) with { LeftShift = 31 }, new sbyte[4], new sbyte[4], new sbyte[4])).ParamName);
        Assert.Equal("g", Assert.Throws<ArgumentException>(() => Qs8Reference.AveragePool2D(
            new ConvGeometry(1, 1, 1, 1, 2, 2, 1, 1, 1, 2, 2, 1, 1, 2, 2), -128, 127, new sbyte[1], new sbyte[4])).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => Qs8Reference.GlobalAveragePool(
            Qs8MeanParams.FromScales(1, 2, 2, 3, 1, 0, 1, 0), new sbyte[11], new sbyte[3])).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => Qs8Reference.Softmax(
            Qs8SoftmaxParams.FromScales(1, 0.1), 2, 3, new sbyte[6], new sbyte[7])).ParamName);
        Assert.Equal("filter", Assert.Throws<ArgumentException>(() => Qs8Reference.FullyConnected(
            1, 3, 2, 0, 0, ok, new sbyte[3], new sbyte[5], [], new sbyte[2])).ParamName);
    }
}
