using EdgeMobileNet.Kernels;
using EdgeMobileNet.Kernels.Reference;
using Xunit;

namespace EdgeMobileNet.Tests.Kernels;

public class F32ReferenceTests
{
    private static readonly (float Min, float Max)[] Activations =
        [(float.NegativeInfinity, float.PositiveInfinity), (0f, float.PositiveInfinity), (0f, 6f), (-0.5f, 0.5f)];

    /// <summary>im2col: the input patch (zeros for padding) that output pixel (b, oy, ox) multiplies, in double.</summary>
    private static double[] Patch(ConvGeometry g, float[] input, int b, int oy, int ox)
    {
        var patch = new double[g.KernelH * g.KernelW * g.InC];
        for (int ky = 0; ky < g.KernelH; ky++)
        for (int kx = 0; kx < g.KernelW; kx++)
        {
            int iy = oy * g.StrideH - g.PadTop + ky * g.DilationH;
            int ix = ox * g.StrideW - g.PadLeft + kx * g.DilationW;
            if (iy < 0 || iy >= g.InH || ix < 0 || ix >= g.InW) continue;
            for (int ic = 0; ic < g.InC; ic++)
                patch[(ky * g.KernelW + kx) * g.InC + ic] = input[((b * g.InH + iy) * g.InW + ix) * g.InC + ic];
        }
        return patch;
    }

    /// <summary>Conv as im2col + matrix multiply in double; returns results and the sum of |terms| (error scale).</summary>
    private static (double[] Value, double[] Magnitude) ConvByIm2Col(ConvGeometry g, float[] input, float[] filter,
        float[] bias)
    {
        int k = g.KernelH * g.KernelW * g.InC;
        var value = new double[g.Batch * g.OutH * g.OutW * g.OutC];
        var magnitude = new double[value.Length];
        for (int b = 0; b < g.Batch; b++)
        for (int oy = 0; oy < g.OutH; oy++)
        for (int ox = 0; ox < g.OutW; ox++)
        {
            double[] patch = Patch(g, input, b, oy, ox);
            for (int oc = 0; oc < g.OutC; oc++)
            {
                double sum = bias.Length == 0 ? 0 : bias[oc], abs = bias.Length == 0 ? 0 : Math.Abs(bias[oc]);
                for (int j = 0; j < k; j++)
                {
                    double term = patch[j] * filter[oc * k + j];
                    sum += term;
                    abs += Math.Abs(term);
                }
                int o = ((b * g.OutH + oy) * g.OutW + ox) * g.OutC + oc;
                value[o] = sum;
                magnitude[o] = abs;
            }
        }
        return (value, magnitude);
    }

    private static void AssertClose(double expected, double magnitude, float actual, float min, float max, string what)
    {
        double clamped = Math.Min(Math.Max(expected, min), max);
        double tolerance = 1e-6 * (magnitude + 1);
        Assert.True(Math.Abs(actual - clamped) <= tolerance, $"{what}: {actual} vs {clamped} (tolerance {tolerance})");
    }

    [Fact]
    public void Conv2D_MatchesIm2ColMatmul()
    {
        var rng = new Random(1234);
        for (int t = 0; t < 300; t++)
        {
            var g = Rand.Geometry(rng, GeometryKind.Conv);
            float[] input = Rand.Floats(rng, g.Batch * g.InH * g.InW * g.InC);
            float[] filter = Rand.Floats(rng, g.OutC * g.KernelH * g.KernelW * g.InC);
            float[] bias = rng.Next(4) == 0 ? [] : Rand.Floats(rng, g.OutC);
            var (min, max) = Activations[rng.Next(Activations.Length)];
            var output = new float[g.Batch * g.OutH * g.OutW * g.OutC];

            F32Reference.Conv2D(g, input, filter, bias, output, min, max);

            var (expected, magnitude) = ConvByIm2Col(g, input, filter, bias);
            for (int i = 0; i < output.Length; i++)
                AssertClose(expected[i], magnitude[i], output[i], min, max, $"case {t} {g} element {i}");
        }
    }

    [Fact]
    public void DepthwiseConv2D_MatchesEquivalentDenseConvolution()
    {
        var rng = new Random(1234);
        for (int t = 0; t < 300; t++)
        {
            var g = Rand.Geometry(rng, GeometryKind.Depthwise);
            float[] input = Rand.Floats(rng, g.Batch * g.InH * g.InW * g.InC);
            float[] filter = Rand.Floats(rng, g.KernelH * g.KernelW * g.OutC);
            float[] bias = rng.Next(4) == 0 ? [] : Rand.Floats(rng, g.OutC);
            var (min, max) = Activations[rng.Next(Activations.Length)];
            var output = new float[g.Batch * g.OutH * g.OutW * g.OutC];

            F32Reference.DepthwiseConv2D(g, input, filter, bias, output, min, max);

            // Depthwise == dense conv whose filter [OutC, KH, KW, InC] is zero except at input channel oc / M.
            var dense = new float[g.OutC * g.KernelH * g.KernelW * g.InC];
            for (int oc = 0; oc < g.OutC; oc++)
            for (int ky = 0; ky < g.KernelH; ky++)
            for (int kx = 0; kx < g.KernelW; kx++)
                dense[((oc * g.KernelH + ky) * g.KernelW + kx) * g.InC + oc / g.DepthMultiplier] =
                    filter[(ky * g.KernelW + kx) * g.OutC + oc];
            var (expected, magnitude) = ConvByIm2Col(g, input, dense, bias);
            for (int i = 0; i < output.Length; i++)
                AssertClose(expected[i], magnitude[i], output[i], min, max, $"case {t} {g} element {i}");
        }
    }

    [Fact]
    public void FullyConnected_MatchesDoubleMatmul()
    {
        var rng = new Random(1234);
        for (int t = 0; t < 300; t++)
        {
            int batch = rng.Next(1, 4), inputDepth = rng.Next(1, 70), outputDepth = rng.Next(1, 18);
            float[] input = Rand.Floats(rng, batch * inputDepth, -3, 3);
            float[] filter = Rand.Floats(rng, outputDepth * inputDepth);
            float[] bias = rng.Next(4) == 0 ? [] : Rand.Floats(rng, outputDepth);
            var (min, max) = Activations[rng.Next(Activations.Length)];
            var output = new float[batch * outputDepth];

            F32Reference.FullyConnected(batch, inputDepth, outputDepth, input, filter, bias, output, min, max);

            for (int b = 0; b < batch; b++)
            for (int o = 0; o < outputDepth; o++)
            {
                double sum = bias.Length == 0 ? 0 : bias[o], magnitude = Math.Abs(sum);
                for (int d = 0; d < inputDepth; d++)
                {
                    double term = (double)input[b * inputDepth + d] * filter[o * inputDepth + d];
                    sum += term;
                    magnitude += Math.Abs(term);
                }
                AssertClose(sum, magnitude, output[b * outputDepth + o], min, max, $"case {t} b={b} o={o}");
            }
        }
    }

    [Fact]
    public void Add_IsElementwiseSumClamped()
    {
        var rng = new Random(1234);
        for (int t = 0; t < 200; t++)
        {
            int n = rng.Next(0, 100);
            float[] a = Rand.Floats(rng, n, -8, 8), b = Rand.Floats(rng, n, -8, 8);
            var (min, max) = Activations[rng.Next(Activations.Length)];
            var output = new float[n];
            F32Reference.Add(a, b, output, min, max);
            for (int i = 0; i < n; i++)
                Assert.Equal(Math.Min(Math.Max(a[i] + b[i], min), max), output[i]);
        }
    }

    [Fact]
    public void AveragePool2D_AveragesOnlyTheValidPartOfEachWindow()
    {
        var rng = new Random(1234);
        for (int t = 0; t < 300; t++)
        {
            var g = Rand.Geometry(rng, GeometryKind.Pool);
            float[] input = Rand.Floats(rng, g.Batch * g.InH * g.InW * g.InC, -4, 4);
            var (min, max) = Activations[rng.Next(Activations.Length)];
            var output = new float[g.Batch * g.OutH * g.OutW * g.OutC];

            F32Reference.AveragePool2D(g, input, output, min, max);

            for (int b = 0; b < g.Batch; b++)
            for (int oy = 0; oy < g.OutH; oy++)
            for (int ox = 0; ox < g.OutW; ox++)
            {
                var taps = Rand.Window(g, oy, ox);
                for (int c = 0; c < g.OutC; c++)
                {
                    double sum = 0, magnitude = 0;
                    foreach (var (iy, ix) in taps)
                    {
                        double v = input[((b * g.InH + iy) * g.InW + ix) * g.InC + c];
                        sum += v;
                        magnitude += Math.Abs(v);
                    }
                    AssertClose(sum / taps.Count, magnitude / taps.Count,
                        output[((b * g.OutH + oy) * g.OutW + ox) * g.OutC + c], min, max, $"case {t} {g}");
                }
            }
        }
    }

    [Fact]
    public void AveragePool2D_RejectsWindowsEntirelyInPadding()
    {
        // 1x1 input, 3x3 window with padding 2 and stride 2: output (1, 1) sees only padding.
        var g = new ConvGeometry(1, 1, 1, 1, 2, 2, 1, 1, 1, 2, 2, 1, 1, 2, 2);
        var ex = Assert.Throws<ArgumentException>(() => F32Reference.AveragePool2D(g, new float[1], new float[4], 0, 1));
        Assert.Equal("g", ex.ParamName);
    }

    [Fact]
    public void GlobalAveragePool_IsThePlaneMean()
    {
        var rng = new Random(1234);
        for (int t = 0; t < 200; t++)
        {
            int batch = rng.Next(1, 3), height = rng.Next(1, 10), width = rng.Next(1, 10), channels = rng.Next(1, 18);
            float[] input = Rand.Floats(rng, batch * height * width * channels, -5, 5);
            var output = new float[batch * channels];
            F32Reference.GlobalAveragePool(batch, height, width, channels, input, output);
            for (int b = 0; b < batch; b++)
            for (int c = 0; c < channels; c++)
            {
                double sum = 0, magnitude = 0;
                for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    double v = input[((b * height + y) * width + x) * channels + c];
                    sum += v;
                    magnitude += Math.Abs(v);
                }
                int n = height * width;
                AssertClose(sum / n, magnitude / n, output[b * channels + c], float.NegativeInfinity,
                    float.PositiveInfinity, $"case {t}");
            }
        }
    }

    [Fact]
    public void Softmax_MatchesDoubleSoftmax()
    {
        var rng = new Random(1234);
        for (int t = 0; t < 300; t++)
        {
            int rows = rng.Next(1, 4), depth = rng.Next(1, 40);
            float beta = new[] { 1f, 0.5f, 2f }[rng.Next(3)];
            float[] input = Rand.Floats(rng, rows * depth, -20, 20);
            var output = new float[rows * depth];
            F32Reference.Softmax(rows, depth, beta, input, output);
            for (int r = 0; r < rows; r++)
            {
                double max = double.MinValue, sum = 0, total = 0;
                for (int c = 0; c < depth; c++) max = Math.Max(max, input[r * depth + c]);
                for (int c = 0; c < depth; c++) sum += Math.Exp(beta * (input[r * depth + c] - max));
                for (int c = 0; c < depth; c++)
                {
                    double expected = Math.Exp(beta * (input[r * depth + c] - max)) / sum;
                    Assert.True(Math.Abs(output[r * depth + c] - expected) <= 1e-6 + 1e-5 * expected,
                        $"case {t}: {output[r * depth + c]} vs {expected}");
                    total += output[r * depth + c];
                }
                Assert.True(Math.Abs(total - 1) < 1e-5, $"row sums to {total}");
            }
        }
    }

    [Fact]
    public void Softmax_HandlesLargeLogitsWithoutOverflow()
    {
        float[] input = [1000f, 1000f, -1000f];
        var output = new float[3];
        F32Reference.Softmax(1, 3, 1f, input, output);
        Assert.Equal([0.5f, 0.5f, 0f], output);
    }

    [Fact]
    public void Quantize_RoundsHalfAwayFromZeroAndClamps()
    {
        float[] input = [0.25f, -0.25f, 0.75f, -0.75f, 1.25f, -1.25f, 0.2f, -0.2f, 100f, -100f, 0f,
            float.PositiveInfinity, float.NegativeInfinity, 31.75f, -32.25f];
        var output = new sbyte[input.Length];
        F32Reference.Quantize(input, output, 0.5f, 0);
        // x / 0.5: 0.5 -> 1, -0.5 -> -1, 1.5 -> 2, -1.5 -> -2, 2.5 -> 3, -2.5 -> -3, 0.4 -> 0, -0.4 -> 0, ...
        Assert.Equal(new sbyte[] { 1, -1, 2, -2, 3, -3, 0, 0, 127, -128, 0, 127, -128, 64, -65 }, output);

        F32Reference.Quantize([0.25f, -0.25f, 0f, -64f], output.AsSpan(0, 4), 0.5f, -10);
        Assert.Equal(new sbyte[] { -9, -11, -10, -128 }, output[..4]);
    }

    [Fact]
    public void QuantizeDequantize_RoundTrip()
    {
        var rng = new Random(1234);
        for (int t = 0; t < 200; t++)
        {
            float scale = (float)Rand.LogUniform(rng, 1e-3, 10);
            int zeroPoint = Rand.ZeroPoint(rng);

            // Every int8 value survives dequantize -> quantize exactly.
            var all = new sbyte[256];
            for (int i = 0; i < 256; i++) all[i] = (sbyte)(i - 128);
            var real = new float[256];
            var back = new sbyte[256];
            F32Reference.Dequantize(all, real, scale, zeroPoint);
            for (int i = 0; i < 256; i++) Assert.Equal(scale * (all[i] - zeroPoint), real[i]);
            F32Reference.Quantize(real, back, scale, zeroPoint);
            Assert.Equal(all, back);

            // Reals inside the representable range come back within half a step.
            float lo = scale * (-128 - zeroPoint), hi = scale * (127 - zeroPoint);
            float[] x = Rand.Floats(rng, 50, lo, hi);
            var q = new sbyte[50];
            var y = new float[50];
            F32Reference.Quantize(x, q, scale, zeroPoint);
            F32Reference.Dequantize(q, y, scale, zeroPoint);
            for (int i = 0; i < 50; i++)
                Assert.True(Math.Abs(y[i] - x[i]) <= scale * 0.5f * 1.0001f, $"{x[i]} -> {q[i]} -> {y[i]} (scale {scale})");
        }
    }

    [Fact]
    public void Kernels_RejectMismatchedSpans()
    {
        var g = new ConvGeometry(1, 4, 4, 3, 4, 4, 5, 3, 3, 1, 1, 1, 1, 1, 1);
        var input = new float[48];
        var filter = new float[5 * 9 * 3];
        var output = new float[80];
        Assert.Equal("input", Assert.Throws<ArgumentException>(
            () => F32Reference.Conv2D(g, input.AsSpan(1), filter, [], output, 0, 1)).ParamName);
        Assert.Equal("filter", Assert.Throws<ArgumentException>(
            () => F32Reference.Conv2D(g, input, filter.AsSpan(1), [], output, 0, 1)).ParamName);
        Assert.Equal("bias", Assert.Throws<ArgumentException>(
            () => F32Reference.Conv2D(g, input, filter, new float[4], output, 0, 1)).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(
            () => F32Reference.Conv2D(g, input, filter, [], output.AsSpan(1), 0, 1)).ParamName);
        Assert.Equal("outputMin", Assert.Throws<ArgumentException>(
            () => F32Reference.Conv2D(g, input, filter, [], output, 1, 0)).ParamName);
        Assert.Equal("g", Assert.Throws<ArgumentException>(
            () => F32Reference.DepthwiseConv2D(g, input, new float[45], [], output, 0, 1)).ParamName);
        Assert.Equal("g", Assert.Throws<ArgumentException>(
            () => F32Reference.Conv2D(g with { StrideH = 0 }, input, filter, [], output, 0, 1)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(
            () => F32Reference.Add(new float[3], new float[2], new float[3], 0, 1)).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(
            () => F32Reference.Softmax(2, 3, 1f, new float[6], new float[5])).ParamName);
        Assert.Equal("filter", Assert.Throws<ArgumentException>(
            () => F32Reference.FullyConnected(2, 3, 4, new float[6], new float[11], [], new float[8], 0, 1)).ParamName);
    }
}
