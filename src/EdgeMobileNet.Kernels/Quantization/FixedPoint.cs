namespace EdgeMobileNet.Kernels.Quantization;

/// <summary>
/// The int8 fixed-point arithmetic of TFLite's quantization scheme, in one place. Every int8 kernel
/// (reference and optimized) goes through these definitions so that results match TFLite bit for bit.
/// </summary>
public static class FixedPoint
{
    /// <summary>
    /// Splits a positive real multiplier into a Q31 fixed-point multiplier and a power-of-two shift
    /// (TFLite QuantizeMultiplier): real = multiplier * 2^(shift - 31). Zero stays zero.
    /// </summary>
    public static void QuantizeMultiplier(double realMultiplier, out int quantizedMultiplier, out int shift)
        => throw new NotImplementedException();

    /// <summary>TFLite SaturatingRoundingDoublingHighMul: (a * b * 2 + 2^31) >> 32 with saturation of MIN*MIN.</summary>
    public static int SaturatingRoundingDoublingHighMul(int a, int b) => throw new NotImplementedException();

    /// <summary>TFLite RoundingDivideByPOT: x / 2^exponent rounded half away from zero.</summary>
    public static int RoundingDivideByPOT(int x, int exponent) => throw new NotImplementedException();

    /// <summary>TFLite MultiplyByQuantizedMultiplier (double-rounding form, the TFLite default).</summary>
    public static int MultiplyByQuantizedMultiplier(int x, int quantizedMultiplier, int shift)
        => throw new NotImplementedException();

    /// <summary>
    /// Clamp range of an int8 output for a fused activation (TFLite CalculateActivationRangeQuantized):
    /// None = [-128, 127]; Relu = [max(-128, zp), 127]; Relu6 = [max(-128, zp), min(127, zp + round(6 / scale))].
    /// </summary>
    public static (int Min, int Max) ActivationRange(ActivationKind activation, float outputScale, int outputZeroPoint)
        => throw new NotImplementedException();
}

/// <summary>Fused activation as the kernels see it (mirrors the model format's FusedActivation).</summary>
public enum ActivationKind : byte
{
    None = 0,
    Relu = 1,
    Relu6 = 2,
}
