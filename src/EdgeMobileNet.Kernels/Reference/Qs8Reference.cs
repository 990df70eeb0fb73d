using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Kernels.Reference;

/// <summary>
/// Scalar, readable int8 reference kernels, exactly TFLite's int8 scheme (reference_integer_ops):
/// asymmetric int8 activations, symmetric (zero point 0) int8 weights per channel or per tensor,
/// int32 bias, requantization through <see cref="FixedPoint"/>. The oracle for every optimized int8 kernel.
/// </summary>
public static class Qs8Reference
{
    /// <summary>
    /// acc[c] = bias[c] + sum (input - inputZeroPoint) * filter; out = output.Requantize(acc, c).
    /// filter [OutC, KernelH, KernelW, InC]; padding reads contribute nothing (input == inputZeroPoint).
    /// </summary>
    public static void Conv2D(in ConvGeometry g, int inputZeroPoint, Qs8OutputParams outputParams,
        ReadOnlySpan<sbyte> input, ReadOnlySpan<sbyte> filter, ReadOnlySpan<int> bias, Span<sbyte> output)
        => throw new NotImplementedException();

    /// <summary>filter [1, KernelH, KernelW, OutC]; see <see cref="Conv2D"/>.</summary>
    public static void DepthwiseConv2D(in ConvGeometry g, int inputZeroPoint, Qs8OutputParams outputParams,
        ReadOnlySpan<sbyte> input, ReadOnlySpan<sbyte> filter, ReadOnlySpan<int> bias, Span<sbyte> output)
        => throw new NotImplementedException();

    /// <summary>
    /// acc = bias[o] + sum (input - inputZeroPoint) * (filter - filterZeroPoint); requantized per
    /// <paramref name="outputParams"/> (per-tensor or per output row).
    /// </summary>
    public static void FullyConnected(int batch, int inputDepth, int outputDepth, int inputZeroPoint,
        int filterZeroPoint, Qs8OutputParams outputParams, ReadOnlySpan<sbyte> input, ReadOnlySpan<sbyte> filter,
        ReadOnlySpan<int> bias, Span<sbyte> output)
        => throw new NotImplementedException();

    /// <summary>TFLite int8 ADD (left shift 20, per-input multipliers, output multiplier).</summary>
    public static void Add(in Qs8AddParams p, ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b, Span<sbyte> output)
        => throw new NotImplementedException();

    /// <summary>
    /// TFLite int8 AVERAGE_POOL_2D: input and output share scale and zero point; the sum over the valid
    /// part of the window is divided by its element count rounding half away from zero, then clamped.
    /// </summary>
    public static void AveragePool2D(in ConvGeometry g, int outputMin, int outputMax, ReadOnlySpan<sbyte> input,
        Span<sbyte> output)
        => throw new NotImplementedException();

    /// <summary>
    /// Mean over height and width of [batch, height, width, channels] into [batch, channels].
    /// When input and output quantization are equal this is AveragePool2D over the whole plane.
    /// Otherwise: acc = sum(q - inZp); out = clamp(MultiplyByQuantizedMultiplier(acc, multiplier, shift) + outZp),
    /// where multiplier/shift encode inScale / (outScale * height * width).
    /// </summary>
    public static void GlobalAveragePool(in Qs8MeanParams p, ReadOnlySpan<sbyte> input, Span<sbyte> output)
        => throw new NotImplementedException();

    /// <summary>TFLite int8 SOFTMAX reference (gemmlowp fixed-point exp, output scale 1/256 zero point -128).</summary>
    public static void Softmax(in Qs8SoftmaxParams p, int rows, int depth, ReadOnlySpan<sbyte> input, Span<sbyte> output)
        => throw new NotImplementedException();

    /// <summary>Requantizes int8 from one (scale, zero point) to another (TFLite QUANTIZE int8 to int8).</summary>
    public static void Requantize(ReadOnlySpan<sbyte> input, int inputZeroPoint, int multiplier, int shift,
        int outputZeroPoint, Span<sbyte> output)
        => throw new NotImplementedException();
}

/// <summary>Prepared parameters of TFLite's int8 ADD.</summary>
public readonly record struct Qs8AddParams(
    int LeftShift,
    int InputAZeroPoint, int InputAMultiplier, int InputAShift,
    int InputBZeroPoint, int InputBMultiplier, int InputBShift,
    int OutputZeroPoint, int OutputMultiplier, int OutputShift,
    int OutputMin, int OutputMax)
{
    /// <summary>Prepares ADD from real scales as TFLite's Prepare does (left shift 20).</summary>
    public static Qs8AddParams FromScales(double scaleA, int zeroPointA, double scaleB, int zeroPointB,
        double outputScale, int outputZeroPoint, int outputMin, int outputMax)
        => throw new NotImplementedException();
}

/// <summary>Prepared parameters of the int8 global mean.</summary>
public readonly record struct Qs8MeanParams(
    int Batch, int Height, int Width, int Channels,
    int InputZeroPoint, int OutputZeroPoint,
    bool SameQuantization, int Multiplier, int Shift,
    int OutputMin, int OutputMax)
{
    public static Qs8MeanParams FromScales(int batch, int height, int width, int channels,
        double inputScale, int inputZeroPoint, double outputScale, int outputZeroPoint)
        => throw new NotImplementedException();
}

/// <summary>Prepared parameters of TFLite's int8 SOFTMAX (PreprocessSoftmaxScaling with 5 integer bits).</summary>
public readonly record struct Qs8SoftmaxParams(int InputMultiplier, int InputLeftShift, int DiffMin,
    int OutputZeroPoint)
{
    public static Qs8SoftmaxParams FromScales(double beta, double inputScale, int outputZeroPoint = -128)
        => throw new NotImplementedException();
}
