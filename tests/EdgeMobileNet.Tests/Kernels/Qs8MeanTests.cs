using EdgeMobileNet.Kernels.Quantization;
using EdgeMobileNet.Kernels.Reference;
using Xunit;

namespace EdgeMobileNet.Tests.Kernels;

/// <summary>TFLite's int8 MEAN over H and W (tflite-micro reduce_common.cc), checked against a test-local formulation.</summary>
public sealed class Qs8MeanTests
{
    /// <summary>reference_ops::QuantizedMeanOrSum written out independently with Int128 arithmetic.</summary>
    private static sbyte ExpectedRescaled(int sum, int count, int inZp, float inScale, float outScale, int outZp)
    {
        FixedPoint.QuantizeMultiplier((double)inScale / outScale, out int multiplier, out int shift);
        int k = Math.Min(Math.Min((int)Math.Floor(Math.Log2(count)), 32), 31 + shift);
        int m = (int)(((Int128)multiplier << k) / count);
        int s = shift - k;
        return (sbyte)Math.Clamp(Exact.Mbqm(sum - inZp * count, m, s) + outZp, -128, 127);
    }

    [Fact]
    public void SameQuantizationTruncatesTowardZero()
    {
        // 3x3 plane; sums -14 (mean -1.56 -> -1, rounding would give -2) and 13 (1.44 -> 1).
        var input = new sbyte[18];
        for (int i = 0; i < 9; i++) { input[i * 2] = (sbyte)(i < 5 ? -2 : -1); input[i * 2 + 1] = (sbyte)(i < 4 ? 2 : 1); }
        var p = Qs8TfLiteMeanParams.FromScales(1, 3, 3, 2, 0.1f, 4, 0.1f, 4);
        Assert.True(p.SameQuantization);
        var output = new sbyte[2];
        Qs8Reference.Mean(p, input, output);
        Assert.Equal(new sbyte[] { -1, 1 }, output);
    }

    [Fact]
    public void RescalingMatchesTheIndependentFormulation()
    {
        var rng = new Random(5);
        for (int trial = 0; trial < 300; trial++)
        {
            int h = rng.Next(1, 10), w = rng.Next(1, 10), c = rng.Next(1, 5);
            float inScale = (float)(0.001 + rng.NextDouble() * 0.2), outScale = (float)(0.001 + rng.NextDouble() * 0.2);
            int inZp = rng.Next(-128, 128), outZp = rng.Next(-128, 128);
            var input = new sbyte[h * w * c];
            foreach (ref var v in input.AsSpan()) v = (sbyte)rng.Next(-128, 128);
            var p = Qs8TfLiteMeanParams.FromScales(1, h, w, c, inScale, inZp, outScale, outZp);
            var output = new sbyte[c];
            Qs8Reference.Mean(p, input, output);
            for (int ch = 0; ch < c; ch++)
            {
                int sum = 0;
                for (int i = 0; i < h * w; i++) sum += input[i * c + ch];
                Assert.Equal(ExpectedRescaled(sum, h * w, inZp, inScale, outScale, outZp), output[ch]);
            }
        }
    }

    [Fact]
    public void DiffersFromTheRoundingGlobalAveragePool()
    {
        // The older GlobalAveragePool rounds half away from zero; TFLite's MEAN truncates: -1.5 -> -1 vs -2.
        var input = new sbyte[] { -1, -2 };
        var output = new sbyte[1];
        Qs8Reference.Mean(Qs8TfLiteMeanParams.FromScales(1, 1, 2, 1, 0.5f, 0, 0.5f, 0), input, output);
        Assert.Equal(-1, output[0]);
        Qs8Reference.GlobalAveragePool(Qs8MeanParams.FromScales(1, 1, 2, 1, 0.5, 0, 0.5, 0), input, output);
        Assert.Equal(-2, output[0]);
    }

    [Theory]
    [InlineData(1 << 30, 0, 49L)]
    [InlineData(1 << 30, -31, 49L)]
    [InlineData(2000000000, 5, 1L)]
    [InlineData(1500000000, -3, 1L << 40)]
    public void MeanMultiplierFoldsTheCount(int multiplier, int shift, long count)
    {
        FixedPoint.MeanMultiplier(multiplier, shift, count, out int m, out int s);
        int k = Math.Min(Math.Min(63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)count), 32), 31 + shift);
        Assert.Equal(shift - k, s);
        Assert.Equal((int)(((Int128)multiplier << k) / count), m);
        Assert.InRange(s, FixedPoint.MinShift, FixedPoint.MaxShift);
    }
}
