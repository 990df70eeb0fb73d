using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Kernels;
using EdgeMobileNet.Kernels.Dispatch;
using EdgeMobileNet.Kernels.Reference;

namespace EdgeMobileNet.Graph.Operators;

/// <summary>AveragePool2D over a window, and GlobalAveragePool (mean over height and width).</summary>
public static class PoolingOperator
{
    public static PreparedOperator CreateAveragePool(OperatorBinding b)
    {
        var g = b.Geometry(b.Op.Attributes.FilterH, b.Op.Attributes.FilterW, 1);
        if (!b.IsInt8)
        {
            var (min, max) = b.F32ActivationRange();
            return new F32Window(b.Op, b.Index, b.Kernels.F32AveragePool2D, g, b.Input(0), b.Output(0), min, max);
        }
        var (qmin, qmax) = b.Qs8ActivationRange();
        return new Qs8Window(b.Op, b.Index, b.Kernels.Qs8AveragePool2D, g, qmin, qmax, b.Input(0), b.Output(0));
    }

    public static PreparedOperator CreateGlobalAveragePool(OperatorBinding b)
    {
        var s = b.InputTensor(0).Shape;
        if (!b.IsInt8)
            return new F32Global(b.Op, b.Index, b.Kernels.F32GlobalAveragePool, s[0], s[1], s[2], s[3], b.Input(0), b.Output(0));
        var qi = b.InputTensor(0).Quantization!;
        var qo = b.OutputTensor(0).Quantization!;
        var p = Qs8MeanParams.FromScales(s[0], s[1], s[2], s[3], qi.Scale, qi.ZeroPoint, qo.Scale, qo.ZeroPoint);
        return new Qs8Global(b.Op, b.Index, b.Kernels.Qs8GlobalAveragePool, p, b.Input(0), b.Output(0));
    }

    private sealed class F32Window(OperatorDefinition def, int index, F32PoolKernel kernel, ConvGeometry g,
        TensorBuffer input, TensorBuffer output, float min, float max) : PreparedOperator(def, index)
    {
        public override void Run() => kernel(g, input.AsReadOnly<float>(), output.As<float>(), min, max);
    }

    private sealed class Qs8Window(OperatorDefinition def, int index, Qs8PoolKernel kernel, ConvGeometry g,
        int min, int max, TensorBuffer input, TensorBuffer output) : PreparedOperator(def, index)
    {
        public override void Run() => kernel(g, min, max, input.AsReadOnly<sbyte>(), output.As<sbyte>());
    }

    private sealed class F32Global(OperatorDefinition def, int index, F32GlobalPoolKernel kernel, int batch,
        int height, int width, int channels, TensorBuffer input, TensorBuffer output) : PreparedOperator(def, index)
    {
        public override void Run() => kernel(batch, height, width, channels, input.AsReadOnly<float>(), output.As<float>());
    }

    private sealed class Qs8Global(OperatorDefinition def, int index, Qs8GlobalPoolKernel kernel, Qs8MeanParams p,
        TensorBuffer input, TensorBuffer output) : PreparedOperator(def, index)
    {
        public override void Run() => kernel(p, input.AsReadOnly<sbyte>(), output.As<sbyte>());
    }
}
