using EdgeMobileNet.Kernels.Quantization;
using EdgeMobileNet.Kernels.Reference;

namespace EdgeMobileNet.Kernels.Dispatch;

/// <summary>
/// The reference functions as prepared kernels: they keep copies of the weights and compute the whole
/// output with <see cref="F32Reference"/> / <see cref="Qs8Reference"/> (no row ranges, no packing).
/// Optimized sets also fall back to these for shapes their micro-kernels do not cover.
/// </summary>
public static class ReferencePrepared
{
    public static F32ConvolutionKernel F32Conv2D(in ConvGeometry g, ReadOnlySpan<float> filter,
        ReadOnlySpan<float> bias, float outputMin, float outputMax) =>
        new F32Conv(g, "F32Conv_Reference", false, filter.ToArray(), bias.ToArray(), outputMin, outputMax);

    public static F32ConvolutionKernel F32DepthwiseConv2D(in ConvGeometry g, ReadOnlySpan<float> filter,
        ReadOnlySpan<float> bias, float outputMin, float outputMax) =>
        new F32Conv(g, "F32DwConv_Reference", true, filter.ToArray(), bias.ToArray(), outputMin, outputMax);

    public static F32ConvolutionKernel F32FullyConnected(int batch, int inputDepth, int outputDepth,
        ReadOnlySpan<float> filter, ReadOnlySpan<float> bias, float outputMin, float outputMax) =>
        new F32Fc(FullyConnectedGeometry.Of(batch, inputDepth, outputDepth), filter.ToArray(), bias.ToArray(), outputMin, outputMax);

    public static Qs8ConvolutionKernel Qs8Conv2D(in ConvGeometry g, int inputZeroPoint, Qs8OutputParams outputParams,
        ReadOnlySpan<sbyte> filter, ReadOnlySpan<int> bias) =>
        new Qs8Conv(g, "Qs8Conv_Reference", false, inputZeroPoint, outputParams, filter.ToArray(), bias.ToArray());

    public static Qs8ConvolutionKernel Qs8DepthwiseConv2D(in ConvGeometry g, int inputZeroPoint,
        Qs8OutputParams outputParams, ReadOnlySpan<sbyte> filter, ReadOnlySpan<int> bias) =>
        new Qs8Conv(g, "Qs8DwConv_Reference", true, inputZeroPoint, outputParams, filter.ToArray(), bias.ToArray());

    public static Qs8ConvolutionKernel Qs8FullyConnected(int batch, int inputDepth, int outputDepth,
        int inputZeroPoint, int filterZeroPoint, Qs8OutputParams outputParams, ReadOnlySpan<sbyte> filter,
        ReadOnlySpan<int> bias) =>
        new Qs8Fc(FullyConnectedGeometry.Of(batch, inputDepth, outputDepth), inputZeroPoint, filterZeroPoint,
            outputParams, filter.ToArray(), bias.ToArray());

    private sealed class F32Conv(in ConvGeometry g, string name, bool depthwise, float[] filter, float[] bias,
        float min, float max) : F32ConvolutionKernel(g, name)
    {
        public override bool SupportsRowRanges => false;

        public override void Run(ReadOnlySpan<float> input, Span<float> output, int firstRow, int rowCount)
        {
            CheckRun(input.Length, output.Length, firstRow, rowCount);
            if (depthwise) F32Reference.DepthwiseConv2D(Geometry, input, filter, bias, output, min, max);
            else F32Reference.Conv2D(Geometry, input, filter, bias, output, min, max);
        }
    }

    private sealed class F32Fc(in ConvGeometry g, float[] filter, float[] bias, float min, float max)
        : F32ConvolutionKernel(g, "F32FullyConnected_Reference")
    {
        public override bool SupportsRowRanges => false;

        public override void Run(ReadOnlySpan<float> input, Span<float> output, int firstRow, int rowCount)
        {
            CheckRun(input.Length, output.Length, firstRow, rowCount);
            F32Reference.FullyConnected(Geometry.Batch, Geometry.InC, Geometry.OutC, input, filter, bias, output, min, max);
        }
    }

    private sealed class Qs8Conv(in ConvGeometry g, string name, bool depthwise, int inputZeroPoint,
        Qs8OutputParams outputParams, sbyte[] filter, int[] bias) : Qs8ConvolutionKernel(g, name)
    {
        public override bool SupportsRowRanges => false;

        public override void Run(ReadOnlySpan<sbyte> input, Span<sbyte> output, int firstRow, int rowCount)
        {
            CheckRun(input.Length, output.Length, firstRow, rowCount);
            if (depthwise) Qs8Reference.DepthwiseConv2D(Geometry, inputZeroPoint, outputParams, input, filter, bias, output);
            else Qs8Reference.Conv2D(Geometry, inputZeroPoint, outputParams, input, filter, bias, output);
        }
    }

    private sealed class Qs8Fc(in ConvGeometry g, int inputZeroPoint, int filterZeroPoint,
        Qs8OutputParams outputParams, sbyte[] filter, int[] bias) : Qs8ConvolutionKernel(g, "Qs8FullyConnected_Reference")
    {
        public override bool SupportsRowRanges => false;

        public override void Run(ReadOnlySpan<sbyte> input, Span<sbyte> output, int firstRow, int rowCount)
        {
            CheckRun(input.Length, output.Length, firstRow, rowCount);
            Qs8Reference.FullyConnected(Geometry.Batch, Geometry.InC, Geometry.OutC, inputZeroPoint, filterZeroPoint,
                outputParams, input, filter, bias, output);
        }
    }
}
