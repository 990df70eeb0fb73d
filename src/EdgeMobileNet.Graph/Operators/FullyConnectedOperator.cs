using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Graph.Operators;

/// <summary>FullyConnected (fp32 and int8): weights packed once at load by the kernel set's factory; rows are the batch.</summary>
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
            var kernel = b.Kernels.F32FullyConnected(batch, inputDepth, outputDepth, b.Input(1).AsReadOnly<float>(),
                bias.AsReadOnly<float>(), min, max);
            return new KernelOperator<float>(b.Op, b.Index, kernel, b.Input(0), b.Output(0), b.Pool);
        }
        var input = b.InputTensor(0).Quantization!;
        var filter = b.InputTensor(1).Quantization!;
        var output = b.OutputTensor(0).Quantization!;
        var (qmin, qmax) = b.Qs8ActivationRange();
        var requant = Qs8OutputParams.FromScales(input.Scale, filter.Scales, output.Scale, output.ZeroPoint, qmin, qmax);
        var qkernel = b.Kernels.Qs8FullyConnected(batch, inputDepth, outputDepth, input.ZeroPoint, filter.ZeroPoint,
            requant, b.Input(1).AsReadOnly<sbyte>(), bias.AsReadOnly<int>());
        return new KernelOperator<sbyte>(b.Op, b.Index, qkernel, b.Input(0), b.Output(0), b.Pool);
    }
}
