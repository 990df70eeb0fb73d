using EdgeMobileNet.Kernels.Quantization;
using EdgeMobileNet.Kernels.Reference;

namespace EdgeMobileNet.Kernels.Dispatch;

public delegate void F32AddKernel(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> output,
    float outputMin, float outputMax);

public delegate void F32PoolKernel(in ConvGeometry g, ReadOnlySpan<float> input, Span<float> output,
    float outputMin, float outputMax);

public delegate void F32GlobalPoolKernel(int batch, int height, int width, int channels, ReadOnlySpan<float> input,
    Span<float> output);

public delegate void Qs8AddKernel(in Qs8AddParams p, ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b, Span<sbyte> output);

public delegate void Qs8PoolKernel(in ConvGeometry g, int outputMin, int outputMax, ReadOnlySpan<sbyte> input,
    Span<sbyte> output);

public delegate void Qs8GlobalPoolKernel(in Qs8MeanParams p, ReadOnlySpan<sbyte> input, Span<sbyte> output);

/// <summary>
/// One ISA's kernels for every operator family the engine runs. The graph picks one set at model
/// load (<see cref="KernelRegistry"/>) and calls only through it. The weight-carrying families
/// (convolution, depthwise, fully connected) are factories: called once per layer at load, they pack the
/// weights and return a prepared kernel that computes any range of output rows. Every kernel computes
/// exactly what the reference kernel of its family computes (bit for bit for int8, within
/// <see cref="Conformance.KernelConformance.F32Tolerance"/> for fp32).
/// </summary>
public sealed record KernelSet(
    string Name,
    string Description,
    F32ConvolutionFactory F32Conv2D,
    F32ConvolutionFactory F32DepthwiseConv2D,
    F32FullyConnectedFactory F32FullyConnected,
    F32AddKernel F32Add,
    F32PoolKernel F32AveragePool2D,
    F32GlobalPoolKernel F32GlobalAveragePool,
    Qs8ConvolutionFactory Qs8Conv2D,
    Qs8ConvolutionFactory Qs8DepthwiseConv2D,
    Qs8FullyConnectedFactory Qs8FullyConnected,
    Qs8AddKernel Qs8Add,
    Qs8PoolKernel Qs8AveragePool2D,
    Qs8GlobalPoolKernel Qs8GlobalAveragePool)
{
    /// <summary>The scalar reference kernels: the oracle, and the path every machine can run (whole outputs, one thread).</summary>
    public static KernelSet Reference { get; } = new(
        "reference", "scalar reference kernels (portable, the oracle for every other path)",
        ReferencePrepared.F32Conv2D, ReferencePrepared.F32DepthwiseConv2D, ReferencePrepared.F32FullyConnected,
        F32Reference.Add, F32Reference.AveragePool2D, F32Reference.GlobalAveragePool,
        ReferencePrepared.Qs8Conv2D, ReferencePrepared.Qs8DepthwiseConv2D, ReferencePrepared.Qs8FullyConnected,
        Qs8Reference.Add, Qs8Reference.AveragePool2D, Qs8Reference.GlobalAveragePool);
}
