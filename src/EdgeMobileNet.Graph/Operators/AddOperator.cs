using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Kernels.Dispatch;
using EdgeMobileNet.Kernels.Reference;

namespace EdgeMobileNet.Graph.Operators;

/// <summary>Element-wise Add of two same-shaped tensors (the MobileNet V2 residual connection).</summary>
public static class AddOperator
{
    public static PreparedOperator Create(OperatorBinding b)
    {
        if (!b.IsInt8)
        {
            var (min, max) = b.F32ActivationRange();
            return new F32(b.Op, b.Index, b.Kernels.F32Add, b.Input(0), b.Input(1), b.Output(0), min, max);
        }
        var qa = b.InputTensor(0).Quantization!;
        var qb = b.InputTensor(1).Quantization!;
        var qo = b.OutputTensor(0).Quantization!;
        var (qmin, qmax) = b.Qs8ActivationRange();
        var p = Qs8AddParams.FromScales(qa.Scale, qa.ZeroPoint, qb.Scale, qb.ZeroPoint, qo.Scale, qo.ZeroPoint, qmin, qmax);
        return new Qs8(b.Op, b.Index, b.Kernels.Qs8Add, p, b.Input(0), b.Input(1), b.Output(0));
    }

    private sealed class F32(OperatorDefinition def, int index, F32AddKernel kernel, TensorBuffer a, TensorBuffer b,
        TensorBuffer output, float min, float max) : PreparedOperator(def, index)
    {
        public override void Run() => kernel(a.AsReadOnly<float>(), b.AsReadOnly<float>(), output.As<float>(), min, max);
    }

    private sealed class Qs8(OperatorDefinition def, int index, Qs8AddKernel kernel, Qs8AddParams p, TensorBuffer a,
        TensorBuffer b, TensorBuffer output) : PreparedOperator(def, index)
    {
        public override void Run() => kernel(p, a.AsReadOnly<sbyte>(), b.AsReadOnly<sbyte>(), output.As<sbyte>());
    }
}
