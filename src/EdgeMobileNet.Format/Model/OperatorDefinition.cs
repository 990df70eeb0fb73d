namespace EdgeMobileNet.Format.Model;

/// <summary>
/// Attributes of an operator. Every operator stores the same fixed record; fields an operator
/// does not use are zero (see docs/model-format.md for which operator reads which field).
/// Padding is explicit (top/left/bottom/right) so TF "SAME" and ONNX pads map onto one form.
/// </summary>
public record struct OperatorAttributes
{
    public int StrideH;
    public int StrideW;
    public int DilationH;
    public int DilationW;
    public int PadTop;
    public int PadLeft;
    public int PadBottom;
    public int PadRight;
    public int FilterH;
    public int FilterW;
    public int DepthMultiplier;
    public FusedActivation Activation;
    public float Beta;

    public static OperatorAttributes Convolution(int stride, int padTop, int padLeft, int padBottom, int padRight,
        FusedActivation activation, int depthMultiplier = 0) => new()
    {
        StrideH = stride, StrideW = stride, DilationH = 1, DilationW = 1,
        PadTop = padTop, PadLeft = padLeft, PadBottom = padBottom, PadRight = padRight,
        DepthMultiplier = depthMultiplier, Activation = activation,
    };
}

/// <summary>One operator of the graph: its type, attributes and input/output tensor indices.</summary>
public sealed class OperatorDefinition
{
    public OperatorDefinition(OperatorType type, int[] inputs, int[] outputs, OperatorAttributes attributes = default,
        string? name = null)
    {
        Type = type;
        Inputs = inputs;
        Outputs = outputs;
        Attributes = attributes;
        Name = name ?? string.Empty;
    }

    public OperatorType Type { get; set; }
    public string Name { get; set; }
    public int[] Inputs { get; set; }
    public int[] Outputs { get; set; }
    public OperatorAttributes Attributes { get; set; }

    public override string ToString() => $"{Type} {Name}";
}
