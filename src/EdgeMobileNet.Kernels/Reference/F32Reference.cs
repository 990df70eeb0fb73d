namespace EdgeMobileNet.Kernels.Reference;

/// <summary>
/// Scalar, readable fp32 reference kernels: the oracle every optimized fp32 kernel is checked against.
/// All tensors are NHWC and dense. Fused activations are given as an output clamp [outputMin, outputMax]
/// (None = [-inf, inf], Relu = [0, inf], Relu6 = [0, 6]).
/// </summary>
public static class F32Reference
{
    /// <summary>filter [OutC, KernelH, KernelW, InC], bias [OutC] (may be empty = zero).</summary>
    public static void Conv2D(in ConvGeometry g, ReadOnlySpan<float> input, ReadOnlySpan<float> filter,
        ReadOnlySpan<float> bias, Span<float> output, float outputMin, float outputMax)
        => throw new NotImplementedException();

    /// <summary>filter [1, KernelH, KernelW, OutC] with OutC = InC * DepthMultiplier, bias [OutC] (may be empty).</summary>
    public static void DepthwiseConv2D(in ConvGeometry g, ReadOnlySpan<float> input, ReadOnlySpan<float> filter,
        ReadOnlySpan<float> bias, Span<float> output, float outputMin, float outputMax)
        => throw new NotImplementedException();

    /// <summary>input [batch, inputDepth], filter [outputDepth, inputDepth], bias [outputDepth] (may be empty).</summary>
    public static void FullyConnected(int batch, int inputDepth, int outputDepth, ReadOnlySpan<float> input,
        ReadOnlySpan<float> filter, ReadOnlySpan<float> bias, Span<float> output, float outputMin, float outputMax)
        => throw new NotImplementedException();

    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> output, float outputMin, float outputMax)
        => throw new NotImplementedException();

    /// <summary>Average over the window; padded positions are not counted (TFLite semantics). OutC == InC.</summary>
    public static void AveragePool2D(in ConvGeometry g, ReadOnlySpan<float> input, Span<float> output,
        float outputMin, float outputMax)
        => throw new NotImplementedException();

    /// <summary>input [batch, height, width, channels] to output [batch, channels]: mean over height and width.</summary>
    public static void GlobalAveragePool(int batch, int height, int width, int channels, ReadOnlySpan<float> input,
        Span<float> output)
        => throw new NotImplementedException();

    /// <summary>Softmax over the last axis of [rows, depth]: exp(beta * (x - max)) normalized.</summary>
    public static void Softmax(int rows, int depth, float beta, ReadOnlySpan<float> input, Span<float> output)
        => throw new NotImplementedException();

    /// <summary>q = clamp(round_half_away(x / scale) + zeroPoint, -128, 127) (TFLite AffineQuantize).</summary>
    public static void Quantize(ReadOnlySpan<float> input, Span<sbyte> output, float scale, int zeroPoint)
        => throw new NotImplementedException();

    /// <summary>x = scale * (q - zeroPoint).</summary>
    public static void Dequantize(ReadOnlySpan<sbyte> input, Span<float> output, float scale, int zeroPoint)
        => throw new NotImplementedException();
}
