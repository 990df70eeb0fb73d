using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Kernels;
using EdgeMobileNet.Kernels.Dispatch;
using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Graph.Operators;

/// <summary>Conv2D and DepthwiseConv2D (fp32 and int8): both run one convolution kernel over a geometry.</summary>
public static class ConvolutionOperator
{
    public static PreparedOperator Create(OperatorBinding b)
    {
        bool depthwise = b.Op.Type == OperatorType.DepthwiseConv2D;
        var filterShape = b.InputTensor(1).Shape;
        var g = b.Geometry(filterShape[1], filterShape[2], depthwise ? b.Op.Attributes.DepthMultiplier : 1);
        var bias = b.HasInput(2) ? b.Input(2) : TensorBuffer.Empty;
        if (!b.IsInt8)
        {
            var (min, max) = b.F32ActivationRange();
            var kernel = depthwise ? b.Kernels.F32DepthwiseConv2D : b.Kernels.F32Conv2D;
            return new F32(b.Op, b.Index, kernel, g, b.Input(0), b.Input(1), bias, b.Output(0), min, max);
        }
        var input = b.InputTensor(0).Quantization!;
        var filter = b.InputTensor(1).Quantization!;
        var output = b.OutputTensor(0).Quantization!;
        var (qmin, qmax) = b.Qs8ActivationRange();
        var requant = Qs8OutputParams.FromScales(input.Scale, filter.Scales, output.Scale, output.ZeroPoint, qmin, qmax);
        var qkernel = depthwise ? b.Kernels.Qs8DepthwiseConv2D : b.Kernels.Qs8Conv2D;
        return new Qs8(b.Op, b.Index, qkernel, g, input.ZeroPoint, requant, b.Input(0), b.Input(1), bias, b.Output(0));
    }

    private sealed class F32(OperatorDefinition def, int index, F32ConvKernel kernel, ConvGeometry g,
        TensorBuffer input, TensorBuffer filter, TensorBuffer bias, TensorBuffer output, float min, float max)
        : PreparedOperator(def, index)
    {
        public override void Run() => kernel(g, input.AsReadOnly<float>(), filter.AsReadOnly<float>(),
            bias.AsReadOnly<float>(), output.As<float>(), min, max);
    }

    private sealed class Qs8(OperatorDefinition def, int index, Qs8ConvKernel kernel, ConvGeometry g,
        int inputZeroPoint, Qs8OutputParams requant, TensorBuffer input, TensorBuffer filter, TensorBuffer bias,
        TensorBuffer output) : PreparedOperator(def, index)
    {
        public override void Run() => kernel(g, inputZeroPoint, requant, input.AsReadOnly<sbyte>(),
            filter.AsReadOnly<sbyte>(), bias.AsReadOnly<int>(), output.As<sbyte>());
    }
}
