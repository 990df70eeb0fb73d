namespace EdgeMobileNet.Kernels;

/// <summary>
/// Shape of one NHWC convolution-like operation (Conv2D, DepthwiseConv2D, pooling).
/// Output pixel (oy, ox) reads input rows oy*StrideH - PadTop + ky*DilationH (likewise for x);
/// reads outside the input are padding (zero for convolutions, excluded for average pooling).
/// For depthwise, OutC = InC * DepthMultiplier and output channel c reads input channel c / DepthMultiplier.
/// </summary>
public readonly record struct ConvGeometry(
    int Batch,
    int InH, int InW, int InC,
    int OutH, int OutW, int OutC,
    int KernelH, int KernelW,
    int StrideH, int StrideW,
    int DilationH, int DilationW,
    int PadTop, int PadLeft,
    int DepthMultiplier = 1)
{
    /// <summary>1x1, stride 1, unpadded, same extent (pointwise and fully connected): output pixel p reads input row p.</summary>
    public bool IsPointwise =>
        KernelH == 1 && KernelW == 1 && StrideH == 1 && StrideW == 1 && PadTop == 0 && PadLeft == 0 &&
        InH == OutH && InW == OutW;

    /// <summary>Output extent along one axis for explicit padding (the TFLite/ONNX formula).</summary>
    public static int OutputSize(int input, int kernel, int stride, int dilation, int padBefore, int padAfter)
    {
        int effectiveKernel = (kernel - 1) * dilation + 1;
        int span = input + padBefore + padAfter - effectiveKernel;
        return span < 0 ? 0 : span / stride + 1;
    }

    /// <summary>TensorFlow SAME padding: total and leading pad for one axis.</summary>
    public static (int Before, int After) SamePadding(int input, int kernel, int stride, int dilation = 1)
    {
        int output = (input + stride - 1) / stride;
        int effectiveKernel = (kernel - 1) * dilation + 1;
        int total = Math.Max((output - 1) * stride + effectiveKernel - input, 0);
        return (total / 2, total - total / 2);
    }
}
