namespace EdgeMobileNet.Format.Model;

/// <summary>Operator codes of the .emn format. All tensors are NHWC.</summary>
public enum OperatorType : ushort
{
    /// <summary>inputs: input [N,H,W,Cin], filter [Cout,KH,KW,Cin], bias [Cout]; output [N,OH,OW,Cout].</summary>
    Conv2D = 1,

    /// <summary>inputs: input [N,H,W,C], filter [1,KH,KW,C*M], bias [C*M]; output [N,OH,OW,C*M].</summary>
    DepthwiseConv2D = 2,

    /// <summary>inputs: input [N,K] (or any shape with N*K elements), filter [Cout,K], bias [Cout]; output [N,Cout].</summary>
    FullyConnected = 3,

    /// <summary>inputs: a, b of equal shape; output of the same shape.</summary>
    Add = 4,

    /// <summary>inputs: input [N,H,W,C]; output [N,OH,OW,C]; window FilterH x FilterW, padding excluded from the count.</summary>
    AveragePool2D = 5,

    /// <summary>inputs: input [N,H,W,C]; output [N,1,1,C]: mean over H and W.</summary>
    GlobalAveragePool = 6,

    /// <summary>inputs: input; output with the same element count and another shape.</summary>
    Reshape = 7,

    /// <summary>inputs: input [N,C]; output [N,C]; softmax over the last axis with Beta.</summary>
    Softmax = 8,

    /// <summary>inputs: f32 input; output int8 of the same shape.</summary>
    Quantize = 9,

    /// <summary>inputs: int8 input; output f32 of the same shape.</summary>
    Dequantize = 10,

    /// <summary>
    /// inputs: data, perm (constant int32 [rank], a permutation of 0..rank-1); output dimension i is input
    /// dimension perm[i]. Any data type; int8 keeps its quantization. (Turns an NCHW source input into NHWC.)
    /// </summary>
    Transpose = 11,

    /// <summary>
    /// inputs: input [N,H,W,C]; output [N,1,1,C]: mean over H and W with TFLite's MEAN semantics for int8
    /// (truncating division when input and output quantization are equal, else the folded-multiplier rescale).
    /// </summary>
    Mean = 12,

    /// <summary>
    /// inputs: data, paddings (constant int32 [rank, 2]: before and after per dimension, each >= 0); output dimension d
    /// is before + input + after. Elements outside the input are 0 (f32) or the zero point (int8, which keeps its
    /// quantization), as TFLite's PAD.
    /// </summary>
    Pad = 13,
}

/// <summary>Activation fused into an operator's output step.</summary>
public enum FusedActivation : byte
{
    None = 0,
    Relu = 1,
    Relu6 = 2,
}
