using EdgeMobileNet.Kernels.Quantization;
using Xunit;

namespace EdgeMobileNet.Tests.Kernels;

public class FixedPointTests
{
    private const int Cases = 20000;

    [Fact]
    public void SaturatingRoundingDoublingHighMul_MatchesExactDefinition()
    {
        var rng = new Random(1234);
        for (int i = 0; i < Cases; i++)
        {
            int a = Rand.Int(rng), b = Rand.Int(rng);
            Assert.Equal(Exact.Srdhm(a, b), FixedPoint.SaturatingRoundingDoublingHighMul(a, b));
        }

        foreach (int a in Rand.SpecialInts)
        foreach (int b in Rand.SpecialInts)
            Assert.Equal(Exact.Srdhm(a, b), FixedPoint.SaturatingRoundingDoublingHighMul(a, b));
    }

    [Fact]
    public void SaturatingRoundingDoublingHighMul_HandDerivedCases()
    {
        Assert.Equal(int.MaxValue, FixedPoint.SaturatingRoundingDoublingHighMul(int.MinValue, int.MinValue));
        Assert.Equal(int.MinValue + 1, FixedPoint.SaturatingRoundingDoublingHighMul(int.MinValue, int.MaxValue));
        Assert.Equal(3, FixedPoint.SaturatingRoundingDoublingHighMul(6, 1 << 30));   // 6 * 0.5
        Assert.Equal(2, FixedPoint.SaturatingRoundingDoublingHighMul(3, 1 << 30));   // 1.5 -> 2 (tie up)
        Assert.Equal(-1, FixedPoint.SaturatingRoundingDoublingHighMul(-3, 1 << 30)); // -1.5 -> -1 (tie up, toward +inf)
        Assert.Equal(0, FixedPoint.SaturatingRoundingDoublingHighMul(-1, 1 << 30));  // -0.5 -> 0
        Assert.Equal(1, FixedPoint.SaturatingRoundingDoublingHighMul(1, 1 << 30));   // 0.5 -> 1
        Assert.Equal(-1, FixedPoint.SaturatingRoundingDoublingHighMul(-3, 1 << 29)); // -0.75 -> -1
    }

    [Fact]
    public void RoundingDivideByPOT_MatchesExactRoundHalfAwayFromZero()
    {
        var rng = new Random(1234);
        for (int i = 0; i < Cases; i++)
        {
            int x = Rand.Int(rng);
            int e = rng.Next(0, 32);
            Assert.Equal(Exact.RoundDivPow2(x, e), FixedPoint.RoundingDivideByPOT(x, e));
        }

        foreach (int x in Rand.SpecialInts)
            for (int e = 0; e <= 31; e++)
                Assert.Equal(Exact.RoundDivPow2(x, e), FixedPoint.RoundingDivideByPOT(x, e));
    }

    [Theory]
    [InlineData(-5, 1, -3)]
    [InlineData(5, 1, 3)]
    [InlineData(-4, 1, -2)]
    [InlineData(7, 2, 2)]
    [InlineData(-6, 2, -2)]
    [InlineData(6, 2, 2)]
    [InlineData(-7, 2, -2)]
    [InlineData(-2, 2, -1)]
    [InlineData(1, 1, 1)]
    [InlineData(-1, 1, -1)]
    [InlineData(123, 0, 123)]
    [InlineData(int.MinValue, 31, -1)]
    [InlineData(int.MaxValue, 31, 1)]
    [InlineData(1 << 30, 31, 1)]
    [InlineData(-(1 << 30), 31, -1)]
    [InlineData((1 << 30) - 1, 31, 0)]
    [InlineData(int.MinValue, 1, -(1 << 30))]
    public void RoundingDivideByPOT_HandDerivedCases(int x, int exponent, int expected) =>
        Assert.Equal(expected, FixedPoint.RoundingDivideByPOT(x, exponent));

    [Fact]
    public void RoundingDivideByPOT_RejectsExponentOutsideRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.RoundingDivideByPOT(1, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.RoundingDivideByPOT(1, 32));
    }

    [Fact]
    public void MultiplyByQuantizedMultiplier_MatchesExactTfliteFormula()
    {
        var rng = new Random(1234);
        for (int i = 0; i < Cases; i++)
        {
            int x = Rand.Int(rng);
            int multiplier = rng.Next(4) == 0 ? Rand.Int(rng) : (int)rng.NextInt64(1L << 30, 1L << 31);
            int shift = rng.Next(FixedPoint.MinShift, FixedPoint.MaxShift + 1);
            Assert.Equal(Exact.Mbqm(x, multiplier, shift), FixedPoint.MultiplyByQuantizedMultiplier(x, multiplier, shift));
        }

        foreach (int x in Rand.SpecialInts)
        foreach (int m in new[] { 0, 1, 1 << 30, int.MaxValue, int.MaxValue - 1, (1 << 30) + 1 })
            for (int shift = -31; shift <= 30; shift++)
                Assert.Equal(Exact.Mbqm(x, m, shift), FixedPoint.MultiplyByQuantizedMultiplier(x, m, shift));
    }

    [Fact]
    public void MultiplyByQuantizedMultiplier_IsWithinOneOfTheRealProductWhenNothingOverflows()
    {
        var rng = new Random(1234);
        int checkedCases = 0;
        for (int i = 0; i < Cases; i++)
        {
            int multiplier = (int)rng.NextInt64(1L << 30, 1L << 31);
            int shift = rng.Next(-31, 31);
            int left = Math.Max(shift, 0);
            // keep x * 2^left inside int32
            long bound = (1L << (31 - left)) - 1;
            int x = (int)rng.NextInt64(-bound, bound + 1);
            int result = FixedPoint.MultiplyByQuantizedMultiplier(x, multiplier, shift);

            // real = x * m * 2^(shift - 31); check |result - real| <= 1 exactly with integers
            int right = Math.Max(-shift, 0);
            Int128 numerator = (Int128)x * multiplier * ((Int128)1 << left);
            Int128 denominator = (Int128)1 << (31 + right);
            Int128 error = Int128.Abs((Int128)result * denominator - numerator);
            Assert.True(error <= denominator, $"x={x} m={multiplier} shift={shift} result={result}");
            checkedCases++;
        }
        Assert.Equal(Cases, checkedCases);
    }

    [Fact]
    public void MultiplyByQuantizedMultiplier_HandDerivedCases()
    {
        // Double rounding: SRDHM(5, 0.5) = 2.5 -> 3, then 3 / 2 = 1.5 -> 2; a single rounding of 1.25 would give 1.
        Assert.Equal(2, FixedPoint.MultiplyByQuantizedMultiplier(5, 1 << 30, -1));
        Assert.Equal(-1, FixedPoint.MultiplyByQuantizedMultiplier(-5, 1 << 30, -1)); // -2.5 -> -2, -1.0 -> -1
        Assert.Equal(0, FixedPoint.MultiplyByQuantizedMultiplier(12345, 0, 0));
        Assert.Equal(0, FixedPoint.MultiplyByQuantizedMultiplier(int.MinValue, 0, -31));
        Assert.Equal(1000, FixedPoint.MultiplyByQuantizedMultiplier(1000, 1 << 30, 1));   // * 1.0
        Assert.Equal(8000, FixedPoint.MultiplyByQuantizedMultiplier(1000, 1 << 30, 4));   // * 8
        Assert.Equal(-1, FixedPoint.MultiplyByQuantizedMultiplier(int.MinValue, int.MaxValue, -31)); // ~ -1
        Assert.Equal(int.MinValue + 1, FixedPoint.MultiplyByQuantizedMultiplier(int.MinValue, int.MaxValue, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.MultiplyByQuantizedMultiplier(1, 1 << 30, 31));
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.MultiplyByQuantizedMultiplier(1, 1 << 30, -32));
    }

    [Fact]
    public void QuantizeMultiplier_ReconstructsTheRealMultiplier()
    {
        var rng = new Random(1234);
        for (int i = 0; i < Cases; i++)
        {
            double real = Rand.LogUniform(rng, Math.Pow(2, -31), Math.Pow(2, 29));
            FixedPoint.QuantizeMultiplier(real, out int m, out int shift);
            Assert.InRange(m, 1 << 30, int.MaxValue);
            double reconstructed = m * Math.Pow(2, shift - 31);
            Assert.True(Math.Abs(reconstructed - real) <= real * Math.Pow(2, -31),
                $"real={real:R} m={m} shift={shift}");

            // The representation must be the nearest one: m must be round(real * 2^(31 - shift)).
            double scaled = real * Math.Pow(2, 31 - shift);
            Assert.True(Math.Abs(scaled - m) <= 0.5, $"real={real:R} m={m} shift={shift}");
        }
    }

    [Fact]
    public void QuantizeMultiplier_HandDerivedCases()
    {
        Check(0.0, 0, 0);
        Check(1.0, 1 << 30, 1);
        Check(0.5, 1 << 30, 0);
        Check(0.75, 3 << 29, 0);
        Check(3.0, 3 << 29, 2);
        Check(1.0 - Math.Pow(2, -40), 1 << 30, 1);              // significand rounds up to 1.0: renormalized
        Check(0.5 + Math.Pow(2, -32), (1 << 30) + 1, 0);        // tie in the 31st bit rounds away from zero
        Check(Math.Pow(2, -32), 1 << 30, -31);                  // smallest shift that survives
        Check(Math.Pow(2, -33), 0, 0);                          // shift -32: flushed to zero
        Check(Math.Pow(2, -32) * 0.99999, 0, 0);                // just below 2^-32: shift -32, flushed
        Check(-0.75, -(3 << 29), 0);                            // negative values split like frexp
        Check(double.Epsilon, 0, 0);                            // subnormal: flushed
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.QuantizeMultiplier(double.NaN, out _, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.QuantizeMultiplier(double.PositiveInfinity, out _, out _));

        static void Check(double real, int expectedMultiplier, int expectedShift)
        {
            FixedPoint.QuantizeMultiplier(real, out int m, out int shift);
            Assert.Equal((expectedMultiplier, expectedShift), (m, shift));
        }
    }

    [Fact]
    public void QuantizeMultiplierSmallerThanOneExpAndGreaterThanOne_EnforceTheirRanges()
    {
        FixedPoint.QuantizeMultiplierSmallerThanOneExp(0.25, out int m, out int shift);
        Assert.Equal((1 << 30, -1), (m, shift));
        FixedPoint.QuantizeMultiplierGreaterThanOne(6.0, out m, out shift);
        Assert.Equal((3 << 29, 3), (m, shift));
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.QuantizeMultiplierSmallerThanOneExp(1.0, out _, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.QuantizeMultiplierSmallerThanOneExp(0.0, out _, out _));
        Assert.Throws<ArgumentOutOfRangeException>(
            () => FixedPoint.QuantizeMultiplierSmallerThanOneExp(1.0 - Math.Pow(2, -40), out _, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.QuantizeMultiplierGreaterThanOne(1.0, out _, out _));
    }

    [Theory]
    [InlineData(ActivationKind.None, 0.1f, 10, -128, 127)]
    [InlineData(ActivationKind.Relu, 0.1f, -128, -128, 127)]
    [InlineData(ActivationKind.Relu, 0.1f, 5, 5, 127)]
    [InlineData(ActivationKind.Relu6, 0.25f, -100, -100, -76)]      // 6 / 0.25 = 24
    [InlineData(ActivationKind.Relu6, 0.5f, 127, 127, 127)]
    [InlineData(ActivationKind.Relu6, 0.5f, 120, 120, 127)]          // 120 + 12 saturates
    [InlineData(ActivationKind.Relu6, 12f, 0, 0, 1)]                 // 6 / 12 = 0.5 rounds away from zero
    [InlineData(ActivationKind.Relu6, 4f, -3, -3, -1)]               // 6 / 4 = 1.5 -> 2
    [InlineData(ActivationKind.Relu6, 48f, 7, 7, 7)]                 // 0.125 -> 0
    [InlineData(ActivationKind.Relu6, 0.0234375f, -128, -128, 127)]  // 6 / (6/256) = 256 -> clamped
    [InlineData(ActivationKind.Relu6, 1e-30f, 0, 0, 127)]            // huge quotient saturates instead of overflowing
    public void ActivationRange_HandDerivedCases(ActivationKind kind, float scale, int zeroPoint, int min, int max) =>
        Assert.Equal((min, max), FixedPoint.ActivationRange(kind, scale, zeroPoint));

    [Fact]
    public void ActivationRange_RejectsUnknownActivationAndBadScale()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.ActivationRange((ActivationKind)7, 1f, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.ActivationRange(ActivationKind.Relu6, 0f, 0));
    }

    [Fact]
    public void SoftmaxScaling_HandDerivedCases()
    {
        // beta * scale * 2^26 = 2^22 = 0.5 * 2^23: multiplier 2^30, shift 23; radius floor(31 * 2^26 / 2^23) = 248.
        Assert.Equal(new Qs8SoftmaxParamsView(1 << 30, 23, -248), View(1.0, 0.0625));
        // 0.1 * 2^26 = 6710886.4 = 0.8 * 2^23: multiplier round(0.8 * 2^31) = 1717986918.
        Assert.Equal(new Qs8SoftmaxParamsView(1717986918, 23, -248), View(1.0, 0.1));
        // beta 2 doubles the multiplier: shift 24, radius 124.
        Assert.Equal(new Qs8SoftmaxParamsView(1 << 30, 24, -124), View(2.0, 0.0625));
        // Capped at 2^31 - 1: shift 31, radius floor(0.96875) = 0 (only the maxima count).
        Assert.Equal(new Qs8SoftmaxParamsView(int.MaxValue, 31, 0), View(1.0, 100.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => View(1.0, 1e-9)); // multiplier <= 1: TFLite rejects

        static Qs8SoftmaxParamsView View(double beta, double scale)
        {
            var p = EdgeMobileNet.Kernels.Reference.Qs8SoftmaxParams.FromScales(beta, scale);
            Assert.Equal(-128, p.OutputZeroPoint);
            return new Qs8SoftmaxParamsView(p.InputMultiplier, p.InputLeftShift, p.DiffMin);
        }
    }

    private readonly record struct Qs8SoftmaxParamsView(int Multiplier, int LeftShift, int DiffMin);

    [Theory]
    [InlineData(5, 23, 31, 248)]
    [InlineData(5, 0, 31, 31 << 26)]
    [InlineData(5, 26, 31, 31)]
    [InlineData(5, 27, 31, 15)]   // 15.5 floors to 15
    [InlineData(5, 31, 31, 0)]
    [InlineData(0, 0, 31, 0)]
    public void CalculateInputRadius_HandDerivedCases(int bits, int leftShift, int total, int expected) =>
        Assert.Equal(expected, FixedPoint.CalculateInputRadius(bits, leftShift, total));
}
