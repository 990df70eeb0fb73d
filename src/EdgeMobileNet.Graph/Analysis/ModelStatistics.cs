using EdgeMobileNet.Format.Model;

namespace EdgeMobileNet.Graph.Analysis;

/// <summary>How the MobileNet paper groups layers in its Table 2.</summary>
public enum LayerCategory
{
    /// <summary>Standard convolution with a kernel larger than 1x1 (the first 3x3 layer).</summary>
    Conv,
    /// <summary>1x1 (pointwise) convolution.</summary>
    Conv1x1,
    DepthwiseConv,
    FullyConnected,
    /// <summary>Add, pooling, reshape, softmax, (de)quantize: no weights, negligible multiply-adds.</summary>
    Other,
}

/// <summary>Cost of one operator: multiply-accumulates and weight/bias parameters.</summary>
public sealed record LayerStatistics(
    int Index,
    string Name,
    OperatorType Type,
    LayerCategory Category,
    string InputShape,
    string OutputShape,
    long MultAdds,
    long Parameters);

public sealed record ModelStatisticsSummary(IReadOnlyList<LayerStatistics> Layers)
{
    public long MultAdds => Layers.Sum(l => l.MultAdds);
    public long Parameters => Layers.Sum(l => l.Parameters);

    public long MultAddsOf(LayerCategory c) => Layers.Where(l => l.Category == c).Sum(l => l.MultAdds);
    public long ParametersOf(LayerCategory c) => Layers.Where(l => l.Category == c).Sum(l => l.Parameters);
}

/// <summary>
/// Counts Mult-Adds and parameters the way the MobileNet paper does: a convolution costs
/// OH*OW*Cout*KH*KW*Cin (depthwise: OH*OW*C*KH*KW), a fully connected layer Cin*Cout; parameters are
/// the weights and biases of constant inputs (biases of folded batch normalization included).
/// </summary>
public static class ModelStatistics
{
    public static ModelStatisticsSummary Compute(ModelDefinition model)
    {
        var layers = new List<LayerStatistics>(model.Operators.Count);
        for (int i = 0; i < model.Operators.Count; i++)
        {
            var op = model.Operators[i];
            var input = model.Tensors[op.Inputs[0]];
            var output = model.Tensors[op.Outputs[0]];
            long parameters = op.Inputs.Skip(1).Select(t => model.Tensors[t]).Where(t => t.IsConstant).Sum(t => t.ElementCount);
            long macs = 0;
            var category = LayerCategory.Other;
            switch (op.Type)
            {
                case OperatorType.Conv2D:
                {
                    var f = model.Tensors[op.Inputs[1]].Shape;
                    macs = output.ElementCount * f[1] * f[2] * f[3];
                    category = f[1] == 1 && f[2] == 1 ? LayerCategory.Conv1x1 : LayerCategory.Conv;
                    break;
                }
                case OperatorType.DepthwiseConv2D:
                {
                    var f = model.Tensors[op.Inputs[1]].Shape;
                    macs = output.ElementCount * f[1] * f[2];
                    category = LayerCategory.DepthwiseConv;
                    break;
                }
                case OperatorType.FullyConnected:
                {
                    var f = model.Tensors[op.Inputs[1]].Shape;
                    macs = output.ElementCount * f[1];
                    category = LayerCategory.FullyConnected;
                    break;
                }
            }
            layers.Add(new LayerStatistics(i, op.Name, op.Type, category, input.ShapeText, output.ShapeText, macs, parameters));
        }
        return new ModelStatisticsSummary(layers);
    }
}
