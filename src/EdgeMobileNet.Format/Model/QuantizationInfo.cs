namespace EdgeMobileNet.Format.Model;

/// <summary>
/// Affine quantization of a tensor: real = scale * (q - zeroPoint).
/// One scale/zero point per tensor, or one per slice along <see cref="Axis"/> (per-channel).
/// </summary>
public sealed class QuantizationInfo
{
    public QuantizationInfo(float[] scales, int[] zeroPoints, int axis = -1)
    {
        ArgumentNullException.ThrowIfNull(scales);
        ArgumentNullException.ThrowIfNull(zeroPoints);
        if (scales.Length == 0 || scales.Length != zeroPoints.Length)
            throw new ArgumentException("scales and zero points must be non-empty and of equal length");
        Scales = scales;
        ZeroPoints = zeroPoints;
        Axis = scales.Length == 1 ? -1 : axis;
    }

    public static QuantizationInfo PerTensor(float scale, int zeroPoint) => new([scale], [zeroPoint]);

    public float[] Scales { get; }
    public int[] ZeroPoints { get; }

    /// <summary>Channel axis for per-channel quantization, or -1 for per-tensor.</summary>
    public int Axis { get; }

    public bool IsPerChannel => Scales.Length > 1 || Axis >= 0;
    public float Scale => Scales[0];
    public int ZeroPoint => ZeroPoints[0];

    public override string ToString() => IsPerChannel
        ? $"per-channel[{Scales.Length}] axis {Axis}"
        : $"scale {Scale:G6} zp {ZeroPoint}";
}
