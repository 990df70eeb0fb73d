using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Kernels;
using EdgeMobileNet.Kernels.Dispatch;
using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Graph.Operators;

/// <summary>What an operator factory sees of the session under construction.</summary>
public sealed class OperatorBinding(ModelDefinition model, OperatorDefinition op, int index, KernelSet kernels,
    Func<int, TensorBuffer> buffers, WorkerPool? pool = null)
{
    /// <summary>The session's worker pool, or null when it runs on the calling thread only.</summary>
    public WorkerPool? Pool => pool;

    public ModelDefinition Model => model;
    public OperatorDefinition Op => op;
    public int Index => index;
    public KernelSet Kernels => kernels;

    public TensorDefinition InputTensor(int i) => model.Tensors[op.Inputs[i]];
    public TensorDefinition OutputTensor(int i) => model.Tensors[op.Outputs[i]];
    public TensorBuffer Input(int i) => buffers(op.Inputs[i]);
    public TensorBuffer Output(int i) => buffers(op.Outputs[i]);
    public bool HasInput(int i) => op.Inputs.Length > i;

    public bool IsInt8 => InputTensor(0).DataType == DataType.Int8;

    /// <summary>The fp32 clamp range of the fused activation.</summary>
    public (float Min, float Max) F32ActivationRange() => op.Attributes.Activation switch
    {
        FusedActivation.Relu => (0f, float.PositiveInfinity),
        FusedActivation.Relu6 => (0f, 6f),
        _ => (float.NegativeInfinity, float.PositiveInfinity),
    };

    /// <summary>The int8 clamp range of the fused activation on output 0.</summary>
    public (int Min, int Max) Qs8ActivationRange()
    {
        var q = OutputTensor(0).Quantization!;
        return FixedPoint.ActivationRange((ActivationKind)op.Attributes.Activation, q.Scale, q.ZeroPoint);
    }

    /// <summary>Geometry of a convolution or pooling operator from its tensors and attributes.</summary>
    public ConvGeometry Geometry(int kernelH, int kernelW, int depthMultiplier)
    {
        var input = InputTensor(0).Shape;
        var output = OutputTensor(0).Shape;
        var a = op.Attributes;
        return new ConvGeometry(input[0], input[1], input[2], input[3], output[1], output[2], output[3],
            kernelH, kernelW, a.StrideH, a.StrideW, Math.Max(a.DilationH, 1), Math.Max(a.DilationW, 1),
            a.PadTop, a.PadLeft, depthMultiplier);
    }
}
