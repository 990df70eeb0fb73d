namespace EdgeMobileNet.Kernels.Quantization;

/// <summary>
/// The gemmlowp fixed-point math functions that TFLite's reference int8 SOFTMAX relies on, on scalar int32 raws.
/// A value in "Qm" format (m integer bits) is raw / 2^(31 - m); Q0 values lie in [-1, 1).
/// Operations are the gemmlowp ones: products are <see cref="FixedPoint.SaturatingRoundingDoublingHighMul"/>
/// (integer bits add up), sums are plain (wrapping) int additions, rescales are saturating/rounding shifts.
/// </summary>
public static class GemmlowpFixedPoint
{
    /// <summary>Raw value of 1.0 in Qm: int.MaxValue for Q0 (1.0 itself is not representable), else 2^(31 - m).</summary>
    public static int One(int integerBits) => integerBits == 0 ? int.MaxValue : 1 << (31 - integerBits);

    /// <summary>gemmlowp RoundingHalfSum: (a + b) / 2 rounded to nearest, ties away from zero.</summary>
    public static int RoundingHalfSum(int a, int b)
    {
        long sum = (long)a + b;
        long sign = sum >= 0 ? 1 : -1;
        return (int)((sum + sign) / 2);
    }

    /// <summary>
    /// gemmlowp SaturatingRoundingMultiplyByPOT: x * 2^exponent, saturating for exponent &gt; 0 and
    /// rounding half away from zero (<see cref="FixedPoint.RoundingDivideByPOT"/>) for exponent &lt; 0.
    /// </summary>
    public static int SaturatingRoundingMultiplyByPOT(int x, int exponent)
    {
        if (exponent == 0) return x;
        if (exponent < 0) return FixedPoint.RoundingDivideByPOT(x, -exponent);
        if (exponent > 30)
            throw new ArgumentOutOfRangeException(nameof(exponent), exponent, "exponent must be in [-31, 30]");
        // Values whose shifted magnitude would not fit saturate; note the symmetric threshold, as in gemmlowp.
        int threshold = (1 << (31 - exponent)) - 1;
        if (x > threshold) return int.MaxValue;
        if (x < -threshold) return int.MinValue;
        return x << exponent;
    }

    /// <summary>gemmlowp Rescale: converts a raw from Q(srcIntegerBits) to Q(dstIntegerBits).</summary>
    public static int Rescale(int raw, int srcIntegerBits, int dstIntegerBits) =>
        SaturatingRoundingMultiplyByPOT(raw, srcIntegerBits - dstIntegerBits);

    /// <summary>gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl: exp(a) for Q0 a in [-1/4, 0).</summary>
    /// <remarks>Fourth-order Taylor expansion around -1/8; result in Q0.</remarks>
    public static int ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(int a)
    {
        const int expMinusOneEighth = 1895147668; // exp(-1/8) in Q0
        const int oneThird = 715827883;           // 1/3 in Q0
        unchecked
        {
            int x = a + (1 << 28); // x = a + 1/8
            int x2 = FixedPoint.SaturatingRoundingDoublingHighMul(x, x);
            int x3 = FixedPoint.SaturatingRoundingDoublingHighMul(x2, x);
            int x4 = FixedPoint.SaturatingRoundingDoublingHighMul(x2, x2);
            int x4Over4 = SaturatingRoundingMultiplyByPOT(x4, -2);
            // (x^4/4 + x^3) / 3 + x^2, halved: x^4/24 + x^3/6 + x^2/2.
            int higherTerms = SaturatingRoundingMultiplyByPOT(
                FixedPoint.SaturatingRoundingDoublingHighMul(x4Over4 + x3, oneThird) + x2, -1);
            return expMinusOneEighth + FixedPoint.SaturatingRoundingDoublingHighMul(expMinusOneEighth, x + higherTerms);
        }
    }

    /// <summary>
    /// gemmlowp exp_on_negative_values: exp(a) for a &lt;= 0 given in Q(<paramref name="integerBits"/>), result in Q0
    /// (exp(0) gives int.MaxValue). TFLite's softmax uses integerBits = 5.
    /// </summary>
    public static int ExpOnNegativeValues(int a, int integerBits)
    {
        if ((uint)integerBits > 29)
            throw new ArgumentOutOfRangeException(nameof(integerBits), integerBits, "must be in [0, 29]");
        int fractionalBits = 31 - integerBits;
        unchecked
        {
            // Split a = (a mod 1/4 - 1/4) - remainder, where remainder is a non-negative multiple of 1/4.
            int oneQuarter = 1 << (fractionalBits - 2);
            int mask = oneQuarter - 1;
            int aModQuarterMinusOneQuarter = (a & mask) - oneQuarter;
            int result = ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(
                Rescale(aModQuarterMinusOneQuarter, integerBits, 0));
            int remainder = aModQuarterMinusOneQuarter - a;

            // Barrel shifter: multiply by exp(-2^k) for every bit 2^k set in the remainder.
            result = BarrelShift(result, remainder, integerBits, fractionalBits, -2, 1672461947);
            result = BarrelShift(result, remainder, integerBits, fractionalBits, -1, 1302514674);
            result = BarrelShift(result, remainder, integerBits, fractionalBits, 0, 790015084);
            result = BarrelShift(result, remainder, integerBits, fractionalBits, 1, 290630308);
            result = BarrelShift(result, remainder, integerBits, fractionalBits, 2, 39332535);
            result = BarrelShift(result, remainder, integerBits, fractionalBits, 3, 720401);
            result = BarrelShift(result, remainder, integerBits, fractionalBits, 4, 242);

            if (integerBits > 5)
            {
                // Below -32 the result is below the Q0 resolution: flush to zero.
                int clamp = -(1 << (36 - integerBits));
                if (a < clamp) result = 0;
            }

            return a == 0 ? One(0) : result;
        }

        static int BarrelShift(int result, int remainder, int integerBits, int fractionalBits, int exponent,
            int expOfMinusTwoToExponent)
        {
            if (integerBits <= exponent) return result; // that bit does not exist in this format
            int bit = 1 << (fractionalBits + exponent);
            return (remainder & bit) != 0
                ? FixedPoint.SaturatingRoundingDoublingHighMul(result, expOfMinusTwoToExponent)
                : result;
        }
    }

    /// <summary>gemmlowp one_over_one_plus_x_for_x_in_0_1: 1 / (1 + a) for Q0 a in [0, 1), result in Q0.</summary>
    /// <remarks>Newton-Raphson on the half denominator in Q2 with the 48/17 - 32/17 * d initial guess, 3 iterations.</remarks>
    public static int OneOverOnePlusXForXIn01(int a)
    {
        const int fortyEightOverSeventeen = 1515870810;      // 48/17 in Q2
        const int minusThirtyTwoOverSeventeen = -1010580540; // -32/17 in Q2
        const int oneQ2 = 1 << 29;
        unchecked
        {
            int halfDenominator = RoundingHalfSum(a, One(0)); // (1 + a) / 2 in Q0
            int x = fortyEightOverSeventeen
                + FixedPoint.SaturatingRoundingDoublingHighMul(halfDenominator, minusThirtyTwoOverSeventeen);
            for (int i = 0; i < 3; i++)
            {
                int halfDenominatorTimesX = FixedPoint.SaturatingRoundingDoublingHighMul(halfDenominator, x); // Q2
                int oneMinusHalfDenominatorTimesX = oneQ2 - halfDenominatorTimesX;                            // Q2
                // x * (1 - d x) is Q4; bring it back to Q2 before adding.
                x += Rescale(FixedPoint.SaturatingRoundingDoublingHighMul(x, oneMinusHalfDenominatorTimesX), 4, 2);
            }

            // x ≈ 1 / halfDenominator in Q2; reading the raw as Q1 halves it, then rescale to Q0.
            return Rescale(x, 1, 0);
        }
    }
}
