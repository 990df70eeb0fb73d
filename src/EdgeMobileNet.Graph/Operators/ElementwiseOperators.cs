using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Kernels.Quantization;
using EdgeMobileNet.Kernels.Reference;
using EdgeMobileNet.Kernels.Simd;

namespace EdgeMobileNet.Graph.Operators;

/// <summary>Reshape, Softmax, Quantize and Dequantize: cheap operators outside the per-ISA kernel sets.</summary>
public static class ElementwiseOperators
{
    public static PreparedOperator CreateReshape(OperatorBinding b) => new Copy(b.Op, b.Index, b.Input(0), b.Output(0));

    public static PreparedOperator CreateSoftmax(OperatorBinding b)
    {
        var shape = b.InputTensor(0).Shape;
        int depth = shape[^1];
        int rows = (int)(b.InputTensor(0).ElementCount / depth);
        float beta = b.Op.Attributes.Beta;
        if (!b.IsInt8) return new F32Softmax(b.Op, b.Index, rows, depth, beta, b.Input(0), b.Output(0));
        var qi = b.InputTensor(0).Quantization!;
        var qo = b.OutputTensor(0).Quantization!;
        var p = Qs8SoftmaxParams.FromScales(beta, qi.Scale, qo.ZeroPoint);
        return new Qs8Softmax(b.Op, b.Index, p, rows, depth, b.Input(0), b.Output(0));
    }

    public static PreparedOperator CreateQuantize(OperatorBinding b)
    {
        var qo = b.OutputTensor(0).Quantization!;
        if (!b.IsInt8) return new F32Quantize(b.Op, b.Index, qo.Scale, qo.ZeroPoint, b.Input(0), b.Output(0));
        var qi = b.InputTensor(0).Quantization!;
        FixedPoint.QuantizeMultiplier((double)qi.Scale / qo.Scale, out int multiplier, out int shift);
        return new Qs8Requantize(b.Op, b.Index, qi.ZeroPoint, multiplier, shift, qo.ZeroPoint, b.Input(0), b.Output(0));
    }

    public static PreparedOperator CreateDequantize(OperatorBinding b)
    {
        var qi = b.InputTensor(0).Quantization!;
        return new F32Dequantize(b.Op, b.Index, qi.Scale, qi.ZeroPoint, b.Input(0), b.Output(0));
    }

    private sealed unsafe class Copy(OperatorDefinition def, int index, TensorBuffer input, TensorBuffer output)
        : PreparedOperator(def, index)
    {
        public override void Run()
        {
            if (input.Pointer != output.Pointer) input.Bytes.CopyTo(output.Bytes);
        }
    }

    private sealed class F32Softmax(OperatorDefinition def, int index, int rows, int depth, float beta,
        TensorBuffer input, TensorBuffer output) : PreparedOperator(def, index)
    {
        public override void Run() => F32Reference.Softmax(rows, depth, beta, input.AsReadOnly<float>(), output.As<float>());
    }

    /// <summary>int8 softmax through its exp table (bit-exact with <see cref="Qs8Reference.Softmax"/>), built here once.</summary>
    private sealed class Qs8Softmax(OperatorDefinition def, int index, Qs8SoftmaxParams p, int rows, int depth,
        TensorBuffer input, TensorBuffer output) : PreparedOperator(def, index)
    {
        private readonly Qs8SoftmaxTable _table = new(p);

        public override void Run() => _table.Run(rows, depth, input.AsReadOnly<sbyte>(), output.As<sbyte>());
    }

    private sealed class F32Quantize(OperatorDefinition def, int index, float scale, int zeroPoint,
        TensorBuffer input, TensorBuffer output) : PreparedOperator(def, index)
    {
        public override void Run() => F32Reference.Quantize(input.AsReadOnly<float>(), output.As<sbyte>(), scale, zeroPoint);
    }

    private sealed class Qs8Requantize(OperatorDefinition def, int index, int inputZeroPoint, int multiplier,
        int shift, int outputZeroPoint, TensorBuffer input, TensorBuffer output) : PreparedOperator(def, index)
    {
        public override void Run() => Qs8Reference.Requantize(input.AsReadOnly<sbyte>(), inputZeroPoint, multiplier,
            shift, outputZeroPoint, output.As<sbyte>());
    }

    private sealed class F32Dequantize(OperatorDefinition def, int index, float scale, int zeroPoint,
        TensorBuffer input, TensorBuffer output) : PreparedOperator(def, index)
    {
        public override void Run() => F32Reference.Dequantize(input.AsReadOnly<sbyte>(), output.As<float>(), scale, zeroPoint);
    }
}
