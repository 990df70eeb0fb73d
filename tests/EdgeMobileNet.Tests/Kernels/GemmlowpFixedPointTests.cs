using EdgeMobileNet.Kernels.Quantization;
using Xunit;

namespace EdgeMobileNet.Tests.Kernels;

public class GemmlowpFixedPointTests
{
    private const double Q31 = 2147483648.0;

    /// <summary>
    /// gemmlowp's exp in double: the fourth-order Taylor polynomial around -1/8 on the part of a in [-1/4, 0), times
    /// exp(-2^k) for every bit 2^k (k = -2..4) of the remaining multiple of 1/4. Only roundings are left out.
    /// </summary>
    private static double ExpModel(int a, int integerBits)
    {
        if (a == 0) return 1.0;
        double one = Math.Pow(2, 31 - integerBits);
        long quarter = 1L << (29 - integerBits);
        long lowBits = a & (quarter - 1);
        double local = (lowBits - quarter) / one;                // in [-1/4, 0)
        double x = local + 0.125;
        double result = Math.Exp(-0.125) * (1 + x + x * x / 2 + x * x * x / 6 + x * x * x * x / 24);
        long remainder = lowBits - quarter - a;                  // non-negative multiple of 1/4
        for (int k = -2; k <= 4 && k < integerBits; k++)
            if ((remainder & (1L << (31 - integerBits + k))) != 0) result *= Math.Exp(-Math.Pow(2, k));
        return result;
    }

    [Fact]
    public void ExpOnNegativeValues_MatchesExpAndItsGemmlowpDecomposition()
    {
        var rng = new Random(1234);
        foreach (int bits in new[] { 5, 5, 5, 0, 1, 3, 6, 12 })
        {
            double one = Math.Pow(2, 31 - bits);
            for (int i = 0; i < 5000; i++)
            {
                // include multiples of 1/4 (pure barrel shifter), tiny magnitudes and the full range
                int a = rng.Next(4) switch
                {
                    0 => (int)-Math.Min((long)rng.Next(0, 129) << (29 - bits), 1L << 31),
                    1 => -rng.Next(0, 1 << 10),
                    _ => (int)-rng.NextInt64(0, 1L << 31),
                };
                double actual = GemmlowpFixedPoint.ExpOnNegativeValues(a, bits) / Q31;
                // The Taylor truncation error peaks at the ends of [-1/4, 0): about 2.3e-7.
                double expected = Math.Exp(a / one);
                Assert.True(Math.Abs(actual - expected) < 2.5e-7, $"bits={bits} a={a}: {actual} vs exp {expected}");
                // Beyond that, only a few roundings of 2^-31 separate it from the exact decomposition.
                double model = ExpModel(a, bits);
                if (bits > 5 && a / one < -32) model = 0; // formats with more range flush below -32
                Assert.True(Math.Abs(actual - model) * Q31 <= 8, $"bits={bits} a={a}: {actual} vs model {model}");
            }
        }
    }

    [Fact]
    public void ExpOnNegativeValues_HandDerivedCases()
    {
        Assert.Equal(int.MaxValue, GemmlowpFixedPoint.ExpOnNegativeValues(0, 5)); // exp(0) = 1 saturates
        Assert.Equal(0, GemmlowpFixedPoint.ExpOnNegativeValues(int.MinValue, 5)); // exp(-32) < 2^-31
        // a = -1/4: all of it is the local part, so the result is the Taylor polynomial at x = -1/8:
        // exp(-1/8) * (1 - 1/8 + 1/128 - 1/3072 + 1/98304) = 0.778800891..., vs exp(-1/4) = 0.778800783...
        double taylor = Math.Exp(-0.125) * (1 - 0.125 + 1.0 / 128 - 1.0 / 3072 + 1.0 / 98304);
        Assert.InRange(GemmlowpFixedPoint.ExpOnNegativeValues(-(1 << 24), 5) - taylor * Q31, -3, 3);
        // a = -1: local part -1/4 again, remainder 3/4 sets the 1/4 and 1/2 bits of the barrel shifter.
        double minusOne = taylor * (1672461947 / Q31) * (1302514674 / Q31);
        Assert.InRange(GemmlowpFixedPoint.ExpOnNegativeValues(-(1 << 26), 5) - minusOne * Q31, -4, 4);
    }

    [Fact]
    public void ExpOnNegativeValues_IsMonotonic()
    {
        var rng = new Random(1234);
        var values = new int[5000];
        for (int i = 0; i < values.Length; i++) values[i] = (int)-rng.NextInt64(0, 16L << 26); // [-16, 0]
        Array.Sort(values);
        for (int i = 1; i < values.Length; i++)
            Assert.True(GemmlowpFixedPoint.ExpOnNegativeValues(values[i - 1], 5) <=
                        GemmlowpFixedPoint.ExpOnNegativeValues(values[i], 5), $"at {values[i - 1]}, {values[i]}");
    }

    [Fact]
    public void OneOverOnePlusX_MatchesReciprocal()
    {
        var rng = new Random(1234);
        for (int i = 0; i < 20000; i++)
        {
            int a = rng.Next(10) == 0 ? new[] { 0, 1, int.MaxValue, int.MaxValue - 1, 1 << 30 }[rng.Next(5)] : rng.Next();
            double expected = 1.0 / (1.0 + a / Q31);
            double actual = GemmlowpFixedPoint.OneOverOnePlusXForXIn01(a) / Q31;
            Assert.True(Math.Abs(actual - expected) < 1e-8, $"a={a}: {actual} vs {expected}");
        }
    }

    [Fact]
    public void GetReciprocal_MatchesReciprocalOfQ12()
    {
        var rng = new Random(1234);
        for (int i = 0; i < 20000; i++)
        {
            int x = rng.Next(1 << 19, int.MaxValue); // Q12.19 values in [1, 4096)
            int r = FixedPoint.GetReciprocal(x, 12, out int numBitsOverUnit);
            Assert.InRange(numBitsOverUnit, 0, 11);
            double expected = (1 << 19) / (double)x;
            double actual = r / Q31 * Math.Pow(2, -numBitsOverUnit);
            Assert.True(Math.Abs(actual - expected) <= 1e-8 * expected * 4, $"x={x}: {actual} vs {expected}");
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => FixedPoint.GetReciprocal(0, 12, out _));
    }

    [Theory]
    [InlineData(3, 4, 4)]          // 3.5 -> 4
    [InlineData(-3, -4, -4)]       // -3.5 -> -4 (away from zero)
    [InlineData(int.MaxValue, int.MaxValue, int.MaxValue)]
    [InlineData(int.MinValue, int.MinValue, int.MinValue)]
    [InlineData(0, 1, 1)]          // 0.5 -> 1
    [InlineData(0, -1, -1)]        // -0.5 -> -1
    public void RoundingHalfSum_HandDerivedCases(int a, int b, int expected) =>
        Assert.Equal(expected, GemmlowpFixedPoint.RoundingHalfSum(a, b));

    [Theory]
    [InlineData(3, 2, 12)]
    [InlineData((1 << 29) - 1, 2, ((1 << 29) - 1) * 4)]
    [InlineData(1 << 29, 2, int.MaxValue)]          // saturates
    [InlineData(-(1 << 29), 2, int.MinValue)]       // -2^31 either way (symmetric threshold)
    [InlineData(-(1 << 29) + 1, 2, (-(1 << 29) + 1) * 4)]
    [InlineData(6, -2, 2)]                          // 1.5 -> 2
    [InlineData(-6, -2, -2)]                        // -1.5 -> -2
    [InlineData(7, 0, 7)]
    public void SaturatingRoundingMultiplyByPOT_HandDerivedCases(int x, int exponent, int expected) =>
        Assert.Equal(expected, GemmlowpFixedPoint.SaturatingRoundingMultiplyByPOT(x, exponent));
}
