namespace EdgeMobileNet.Kernels.Quantization;

/// <summary>
/// Requantization of an int32 accumulator to int8 output, as TFLite's int8 scheme does it:
/// out = clamp(MultiplyByQuantizedMultiplier(acc, Multiplier[c], Shift[c]) + OutputZeroPoint, OutputMin, OutputMax).
/// Multiplier/Shift have one entry (per-tensor) or one per output channel (per-channel).
/// OutputMin/OutputMax already include the fused activation (see <see cref="FixedPoint.ActivationRange"/>).
/// </summary>
public sealed class Qs8OutputParams
{
    public Qs8OutputParams(int[] multipliers, int[] shifts, int outputZeroPoint, int outputMin, int outputMax)
    {
        if (multipliers.Length == 0 || multipliers.Length != shifts.Length)
            throw new ArgumentException("multipliers and shifts must be non-empty and of equal length");
        Multipliers = multipliers;
        Shifts = shifts;
        OutputZeroPoint = outputZeroPoint;
        OutputMin = outputMin;
        OutputMax = outputMax;
    }

    public int[] Multipliers { get; }
    public int[] Shifts { get; }
    public int OutputZeroPoint { get; }
    public int OutputMin { get; }
    public int OutputMax { get; }

    public bool IsPerChannel => Multipliers.Length > 1;

    /// <summary>Builds the params from real scales: effective scale = inputScale * filterScale[c] / outputScale.</summary>
    public static Qs8OutputParams FromScales(double inputScale, ReadOnlySpan<float> filterScales, double outputScale,
        int outputZeroPoint, int outputMin, int outputMax)
    {
        var multipliers = new int[filterScales.Length];
        var shifts = new int[filterScales.Length];
        for (int c = 0; c < filterScales.Length; c++)
        {
            double effective = inputScale * filterScales[c] / outputScale;
            FixedPoint.QuantizeMultiplier(effective, out multipliers[c], out shifts[c]);
        }
        return new Qs8OutputParams(multipliers, shifts, outputZeroPoint, outputMin, outputMax);
    }

    /// <summary>Requantizes one accumulator for output channel <paramref name="channel"/>.</summary>
    public int Requantize(int accumulator, int channel)
    {
        int i = IsPerChannel ? channel : 0;
        int scaled = FixedPoint.MultiplyByQuantizedMultiplier(accumulator, Multipliers[i], Shifts[i]) + OutputZeroPoint;
        return Math.Clamp(scaled, OutputMin, OutputMax);
    }
}
