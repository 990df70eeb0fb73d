using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Operators;

namespace EdgeMobileNet.Graph.Runtime;

/// <summary>Which factory prepares each operator type: one line per operator.</summary>
internal static class OperatorFactory
{
    private static readonly Dictionary<OperatorType, Func<OperatorBinding, PreparedOperator>> Factories = new()
    {
        [OperatorType.Conv2D] = ConvolutionOperator.Create,
        [OperatorType.DepthwiseConv2D] = ConvolutionOperator.Create,
        [OperatorType.FullyConnected] = FullyConnectedOperator.Create,
        [OperatorType.Add] = AddOperator.Create,
        [OperatorType.AveragePool2D] = PoolingOperator.CreateAveragePool,
        [OperatorType.GlobalAveragePool] = PoolingOperator.CreateGlobalAveragePool,
        [OperatorType.Reshape] = ElementwiseOperators.CreateReshape,
        [OperatorType.Softmax] = ElementwiseOperators.CreateSoftmax,
        [OperatorType.Quantize] = ElementwiseOperators.CreateQuantize,
        [OperatorType.Dequantize] = ElementwiseOperators.CreateDequantize,
        [OperatorType.Transpose] = TransposeOperator.Create,
        [OperatorType.Mean] = MeanOperator.Create,
        [OperatorType.Pad] = PadOperator.Create,
    };

    public static PreparedOperator Create(OperatorBinding binding) => Factories.TryGetValue(binding.Op.Type, out var f)
        ? f(binding)
        : throw new NotSupportedException($"operator {binding.Index} '{binding.Op.Name}': type {binding.Op.Type} has no implementation");
}
