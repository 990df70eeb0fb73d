using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Kernels.Dispatch;
using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Graph.Operators;

public static class FullyConnectedOperator
{
    public static PreparedOperator Create(OperatorBinding b)
    {
        var filterShape = b.InputTensor(1).Shape;
        int outputDepth = filterShape[0], inputDepth = filterShape[1];
        int batch = (int)(b.InputTensor(0).ElementCount / inputDepth);
        var bias = b.HasInput(2) ? b.Input(2) : TensorBuffer.Empty;
        if (!b.IsInt8)
        {
            var (min, max) = b.F32ActivationRange();
            return new F32(b.Op, b.Index, b.Kernels.F32FullyConnected, batch, inputDepth, outputDepth,
                b.Input(0), b.Input(1), bias, b.Output(0), min, max);
        }
        var input = b.InputTensor(0).Quantization!;
        var filter = b.InputTensor(1).Quantization!;
        var output = b.OutputTensor(0).Quantization!;
        var (qmin, qmax) = b.Qs8ActivationRange();
        var requant = Qs8OutputParams.FromScales(input.Scale, filter.Scales, output.Scale, output.ZeroPoint, qmin, qmax);
        return new Qs8(b.Op, b.Index, b.Kernels.Qs8FullyConnected, batch, inputDepth, outputDepth, input.ZeroPoint,
            filter.ZeroPoint, requant, b.Input(0), b.Input(1), bias, b.Output(0));
    }

    private sealed class F32(OperatorDefinition def, int index, F32FullyConnectedKernel kernel, int batch,
        int inputDepth, int outputDepth, TensorBuffer input, TensorBuffer filter, TensorBuffer bias,
        TensorBuffer output, float min, float max) : PreparedOperator(def, index)
    {
        public override void Run() => kernel(batch, inputDepth, outputDepth, input.AsReadOnly<float>(),
            filter.AsReadOnly<float>(), bias.AsReadOnly<float>(), output.As<float>(), min, max);
    }

    private sealed class Qs8(OperatorDefinition def, int index, Qs8FullyConnectedKernel kernel, int batch,
        int inputDepth, int outputDepth, int inputZeroPoint, int filterZeroPoint, Qs8OutputParams requant,
        TensorBuffer input, TensorBuffer filter, TensorBuffer bias, TensorBuffer output) : PreparedOperator(def, index)
    {
        public override void Run() => kernel(batch, inputDepth, outputDepth, inputZeroPoint, filterZeroPoint,
            requant, input.AsReadOnly<sbyte>(), filter.AsReadOnly<sbyte>(), bias.AsReadOnly<int>(), output.As<sbyte>());
    }
}
