using System.Numerics;

namespace EdgeMobileNet.Kernels.Quantization;

/// <summary>
/// The int8 fixed-point arithmetic of TFLite's quantization scheme, in one place. Every int8 kernel
/// (reference and optimized) goes through these definitions so that results match TFLite bit for bit.
/// The gemmlowp fixed-point math functions (exp, reciprocal) used by softmax live in <see cref="GemmlowpFixedPoint"/>.
/// </summary>
/// <remarks>
/// Integer overflow follows two's-complement wrapping where TFLite's C++ would overflow (undefined behaviour there,
/// wrapping on every compiler TFLite ships with); none of the in-range uses overflow.
/// </remarks>
public static class FixedPoint
{
    /// <summary>Smallest shift (largest right shift, 2^-31) accepted by <see cref="MultiplyByQuantizedMultiplier"/>.</summary>
    public const int MinShift = -31;

    /// <summary>Largest left shift accepted by <see cref="MultiplyByQuantizedMultiplier"/> (1 &lt;&lt; 31 overflows int).</summary>
    public const int MaxShift = 30;

    /// <summary>
    /// Splits a positive real multiplier into a Q31 fixed-point multiplier and a power-of-two shift
    /// (TFLite QuantizeMultiplier): real = multiplier * 2^(shift - 31). Zero stays zero.
    /// </summary>
    /// <remarks>
    /// Like TFLite: frexp, round half away from zero, a significand that rounds up to 2^31 is halved with the
    /// shift incremented, and a shift below -31 (|real| &lt; ~2^-32) flushes to (0, 0). Negative multipliers are
    /// split the same way (as TFLite does), although no kernel uses them.
    /// </remarks>
    public static void QuantizeMultiplier(double realMultiplier, out int quantizedMultiplier, out int shift)
    {
        if (!double.IsFinite(realMultiplier))
            throw new ArgumentOutOfRangeException(nameof(realMultiplier), realMultiplier, "multiplier must be finite");
        if (realMultiplier == 0.0)
        {
            quantizedMultiplier = 0;
            shift = 0;
            return;
        }

        // frexp: real = fraction * 2^exponent with 0.5 <= |fraction| < 1. Both steps are exact.
        int exponent = Math.ILogB(realMultiplier) + 1;
        double fraction = Math.ScaleB(realMultiplier, -exponent);

        // std::round semantics (half away from zero); fraction * 2^31 is exact, only the rounding loses bits.
        long fixedPoint = (long)Math.Round(fraction * 2147483648.0, MidpointRounding.AwayFromZero);
        if (fixedPoint == 1L << 31)
        {
            // The significand rounded up to 1.0: renormalize to 0.5 and bump the exponent.
            fixedPoint /= 2;
            exponent++;
        }

        if (exponent < -31)
        {
            // Every bit would be shifted out anyway: TFLite flushes such tiny multipliers to zero.
            exponent = 0;
            fixedPoint = 0;
        }

        quantizedMultiplier = (int)fixedPoint;
        shift = exponent;
    }

    /// <summary>TFLite QuantizeMultiplierSmallerThanOneExp: requires 0 &lt; real &lt; 1; the shift is &lt;= 0.</summary>
    public static void QuantizeMultiplierSmallerThanOneExp(double realMultiplier, out int quantizedMultiplier,
        out int shift)
    {
        if (!(realMultiplier > 0.0 && realMultiplier < 1.0))
            throw new ArgumentOutOfRangeException(nameof(realMultiplier), realMultiplier, "multiplier must be in (0, 1)");
        QuantizeMultiplier(realMultiplier, out quantizedMultiplier, out shift);
        // A value just below 1 can round up to exactly 1.0 (shift 1); TFLite rejects that too.
        if (shift > 0)
            throw new ArgumentOutOfRangeException(nameof(realMultiplier), realMultiplier, "multiplier rounds to 1.0");
    }

    /// <summary>TFLite QuantizeMultiplierGreaterThanOne: requires real &gt; 1; the shift is &gt;= 0.</summary>
    public static void QuantizeMultiplierGreaterThanOne(double realMultiplier, out int quantizedMultiplier,
        out int leftShift)
    {
        if (!(realMultiplier > 1.0) || !double.IsFinite(realMultiplier))
            throw new ArgumentOutOfRangeException(nameof(realMultiplier), realMultiplier, "multiplier must be > 1");
        QuantizeMultiplier(realMultiplier, out quantizedMultiplier, out leftShift);
    }

    /// <summary>TFLite SaturatingRoundingDoublingHighMul: (a * b * 2 + 2^31) >> 32 with saturation of MIN*MIN.</summary>
    /// <remarks>
    /// Equivalently round(a * b / 2^31) with ties towards +infinity (gemmlowp's nudge-and-truncate form, ARM VQRDMULH).
    /// The only product that does not fit is int.MinValue * int.MinValue, which saturates to int.MaxValue.
    /// </remarks>
    public static int SaturatingRoundingDoublingHighMul(int a, int b)
    {
        if (a == b && a == int.MinValue) return int.MaxValue;
        long product = (long)a * b;
        // Nudge by +-2^30 then divide truncating toward zero: rounds to nearest, ties up.
        long nudge = product >= 0 ? 1L << 30 : 1L - (1L << 30);
        return (int)((product + nudge) / (1L << 31));
    }

    /// <summary>
    /// A TFLite shift as <see cref="MultiplyByQuantizedMultiplier"/> applies it: the left shift max(shift, 0), the
    /// right shift max(-shift, 0) and that right shift's remainder mask 2^right - 1 (what the vectorized
    /// RoundingDivideByPOT steps precompute). Callers check the range [-31, 30].
    /// </summary>
    public static (int Left, int Right, int Mask) SplitShift(int shift)
    {
        int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
        return (left, right, (int)((1L << right) - 1));
    }

    /// <summary>TFLite RoundingDivideByPOT: x / 2^exponent rounded half away from zero.</summary>
    /// <param name="exponent">0..31.</param>
    public static int RoundingDivideByPOT(int x, int exponent)
    {
        if ((uint)exponent > 31)
            throw new ArgumentOutOfRangeException(nameof(exponent), exponent, "exponent must be in [0, 31]");
        int mask = (int)((1L << exponent) - 1);
        int remainder = x & mask;
        // Negative values need a strictly larger remainder to round up, which makes ties go away from zero.
        int threshold = (mask >> 1) + (x < 0 ? 1 : 0);
        return (x >> exponent) + (remainder > threshold ? 1 : 0);
    }

    /// <summary>
    /// Folds a 1/<paramref name="count"/> factor into a quantized multiplier as TFLite's QuantizedMeanOrSum does:
    /// k = min(floor(log2 count), 32, 31 + shift); multiplier' = (multiplier * 2^k) / count (int64, truncating);
    /// shift' = shift - k. The result keeps shift' &gt;= -31 for any shift &gt;= -31.
    /// </summary>
    public static void MeanMultiplier(int multiplier, int shift, long count, out int meanMultiplier, out int meanShift)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, "must be positive");
        if (shift < MinShift || shift > MaxShift)
            throw new ArgumentOutOfRangeException(nameof(shift), shift, "shift must be in [-31, 30]");
        int k = 63 - BitOperations.LeadingZeroCount((ulong)count);
        k = Math.Min(k, 32);
        k = Math.Min(k, 31 + shift);
        meanMultiplier = unchecked((int)(((long)multiplier << k) / count));
        meanShift = shift - k;
    }

    /// <summary>TFLite MultiplyByQuantizedMultiplier (double-rounding form, the TFLite default).</summary>
    /// <remarks>
    /// RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x * 2^max(shift, 0), multiplier), max(-shift, 0)).
    /// The left shift wraps like TFLite's int32 arithmetic; <paramref name="shift"/> must be in [-31, 30].
    /// </remarks>
    public static int MultiplyByQuantizedMultiplier(int x, int quantizedMultiplier, int shift)
    {
        if (shift < MinShift || shift > MaxShift)
            throw new ArgumentOutOfRangeException(nameof(shift), shift, "shift must be in [-31, 30]");
        var (leftShift, rightShift, _) = SplitShift(shift);
        int shifted = unchecked(x * (1 << leftShift));
        return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(shifted, quantizedMultiplier), rightShift);
    }

    /// <summary>TFLite MultiplyByQuantizedMultiplierGreaterThanOne: SRDHM(x * 2^leftShift, multiplier), no final shift.</summary>
    /// <param name="leftShift">0..31 (31 only makes sense for x == 0, as in softmax with a saturated multiplier).</param>
    public static int MultiplyByQuantizedMultiplierGreaterThanOne(int x, int quantizedMultiplier, int leftShift)
    {
        if ((uint)leftShift > 31)
            throw new ArgumentOutOfRangeException(nameof(leftShift), leftShift, "left shift must be in [0, 31]");
        return SaturatingRoundingDoublingHighMul(unchecked(x * (1 << leftShift)), quantizedMultiplier);
    }

    /// <summary>
    /// Clamp range of an int8 output for a fused activation (TFLite CalculateActivationRangeQuantized):
    /// None = [-128, 127]; Relu = [max(-128, zp), 127]; Relu6 = [max(-128, zp), min(127, zp + round(6 / scale))].
    /// </summary>
    /// <remarks>6 / scale is a float division rounded half away from zero, as in TFLite.</remarks>
    public static (int Min, int Max) ActivationRange(ActivationKind activation, float outputScale, int outputZeroPoint)
    {
        const int qmin = sbyte.MinValue, qmax = sbyte.MaxValue;
        switch (activation)
        {
            case ActivationKind.None:
                return (qmin, qmax);
            case ActivationKind.Relu:
                CheckScale(outputScale);
                return (Math.Max(qmin, QuantizeScalar(0f, outputScale, outputZeroPoint)), qmax);
            case ActivationKind.Relu6:
                CheckScale(outputScale);
                return (Math.Max(qmin, QuantizeScalar(0f, outputScale, outputZeroPoint)),
                    Math.Min(qmax, QuantizeScalar(6f, outputScale, outputZeroPoint)));
            default:
                throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown fused activation");
        }

        static void CheckScale(float scale)
        {
            if (!(scale > 0f) || !float.IsFinite(scale))
                throw new ArgumentOutOfRangeException(nameof(outputScale), scale, "output scale must be positive and finite");
        }
    }

    /// <summary>zp + round_half_away(value / scale) in float, saturated to int (TFLite would reject an overflow).</summary>
    private static int QuantizeScalar(float value, float scale, int zeroPoint)
    {
        float rounded = MathF.Round(value / scale, MidpointRounding.AwayFromZero);
        long q = zeroPoint + (long)Math.Clamp((double)rounded, int.MinValue, int.MaxValue);
        return (int)Math.Clamp(q, int.MinValue, int.MaxValue);
    }

    /// <summary>
    /// TFLite PreprocessSoftmaxScaling (double-rounding build): the multiplier applied to (input - max) so that the
    /// result is a Q(inputIntegerBits).(31 - inputIntegerBits) fixed-point number of beta * scale * (input - max),
    /// capped at 2^31 - 1. Requires beta * inputScale * 2^(31 - inputIntegerBits) &gt; 1.
    /// </summary>
    public static void PreprocessSoftmaxScaling(double beta, double inputScale, int inputIntegerBits,
        out int quantizedMultiplier, out int leftShift)
    {
        if ((uint)inputIntegerBits > 30)
            throw new ArgumentOutOfRangeException(nameof(inputIntegerBits), inputIntegerBits, "must be in [0, 30]");
        const double maxRealMultiplier = (1L << 31) - 1.0;
        double real = Math.Min(beta * inputScale * (1 << (31 - inputIntegerBits)), maxRealMultiplier);
        if (!(real > 1.0))
            throw new ArgumentOutOfRangeException(nameof(inputScale), inputScale,
                "beta * input scale is too small for the int8 softmax (TFLite requires the scaled multiplier > 1)");
        QuantizeMultiplierGreaterThanOne(real, out quantizedMultiplier, out leftShift);
    }

    /// <summary>
    /// TFLite CalculateInputRadius: the largest |input - max| whose rescaled value still fits the
    /// Q(inputIntegerBits) format, floor(((2^bits - 1) * 2^(total - bits)) / 2^leftShift).
    /// </summary>
    public static int CalculateInputRadius(int inputIntegerBits, int inputLeftShift, int totalSignedBits = 31)
    {
        if ((uint)inputIntegerBits > 30)
            throw new ArgumentOutOfRangeException(nameof(inputIntegerBits), inputIntegerBits, "must be in [0, 30]");
        if (totalSignedBits < inputIntegerBits || totalSignedBits > 62)
            throw new ArgumentOutOfRangeException(nameof(totalSignedBits), totalSignedBits, "must be in [bits, 62]");
        if ((uint)inputLeftShift > 62)
            throw new ArgumentOutOfRangeException(nameof(inputLeftShift), inputLeftShift, "must be in [0, 62]");
        double maxInputRescaled = 1.0 * ((1 << inputIntegerBits) - 1) * (1L << (totalSignedBits - inputIntegerBits))
            / (1L << inputLeftShift);
        return (int)Math.Floor(maxInputRescaled);
    }

    /// <summary>
    /// TFLite GetReciprocal: for a positive fixed-point x with <paramref name="xIntegerDigits"/> integer bits returns
    /// a Q0.31 value r and <paramref name="numBitsOverUnit"/> such that 1 / x ≈ (r / 2^31) * 2^-numBitsOverUnit.
    /// </summary>
    public static int GetReciprocal(int x, int xIntegerDigits, out int numBitsOverUnit)
    {
        if (x <= 0) throw new ArgumentOutOfRangeException(nameof(x), x, "must be positive");
        int headroomPlusOne = BitOperations.LeadingZeroCount((uint)x);
        numBitsOverUnit = xIntegerDigits - headroomPlusOne;
        // Normalize x into [1, 2) as an unsigned Q1.31 and subtract 1 to get a Q0.31 in [0, 1).
        int shiftedMinusOne = unchecked((int)(((uint)x << headroomPlusOne) - (1u << 31)));
        return GemmlowpFixedPoint.OneOverOnePlusXForXIn01(shiftedMinusOne);
    }
}

/// <summary>Fused activation as the kernels see it (mirrors the model format's FusedActivation).</summary>
public enum ActivationKind : byte
{
    None = 0,
    Relu = 1,
    Relu6 = 2,
}
