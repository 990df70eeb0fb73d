using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Kernels.Reference;

namespace EdgeMobileNet.Graph.Operators;

/// <summary>Mean over height and width with TFLite MEAN semantics (int8: <see cref="Qs8Reference.Mean"/>).</summary>
public static class MeanOperator
{
    public static PreparedOperator Create(OperatorBinding b)
    {
        var s = b.InputTensor(0).Shape;
        if (!b.IsInt8) return new F32Mean(b.Op, b.Index, s[0], s[1], s[2], s[3], b.Input(0), b.Output(0));
        var qi = b.InputTensor(0).Quantization!;
        var qo = b.OutputTensor(0).Quantization!;
        var p = Qs8TfLiteMeanParams.FromScales(s[0], s[1], s[2], s[3], qi.Scale, qi.ZeroPoint, qo.Scale, qo.ZeroPoint);
        return new Qs8Mean(b.Op, b.Index, p, b.Input(0), b.Output(0));
    }

    private sealed class F32Mean(OperatorDefinition def, int index, int batch, int height, int width, int channels,
        TensorBuffer input, TensorBuffer output) : PreparedOperator(def, index)
    {
        public override void Run() =>
            F32Reference.GlobalAveragePool(batch, height, width, channels, input.AsReadOnly<float>(), output.As<float>());
    }

    private sealed class Qs8Mean(OperatorDefinition def, int index, Qs8TfLiteMeanParams p, TensorBuffer input,
        TensorBuffer output) : PreparedOperator(def, index)
    {
        public override void Run() => Qs8Reference.Mean(p, input.AsReadOnly<sbyte>(), output.As<sbyte>());
    }
}
