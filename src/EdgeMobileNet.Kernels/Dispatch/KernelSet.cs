using EdgeMobileNet.Kernels.Quantization;
using EdgeMobileNet.Kernels.Reference;

namespace EdgeMobileNet.Kernels.Dispatch;

public delegate void F32ConvKernel(in ConvGeometry g, ReadOnlySpan<float> input, ReadOnlySpan<float> filter,
    ReadOnlySpan<float> bias, Span<float> output, float outputMin, float outputMax);

public delegate void F32FullyConnectedKernel(int batch, int inputDepth, int outputDepth, ReadOnlySpan<float> input,
    ReadOnlySpan<float> filter, ReadOnlySpan<float> bias, Span<float> output, float outputMin, float outputMax);

public delegate void F32AddKernel(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> output,
    float outputMin, float outputMax);

public delegate void F32PoolKernel(in ConvGeometry g, ReadOnlySpan<float> input, Span<float> output,
    float outputMin, float outputMax);

public delegate void F32GlobalPoolKernel(int batch, int height, int width, int channels, ReadOnlySpan<float> input,
    Span<float> output);

public delegate void Qs8ConvKernel(in ConvGeometry g, int inputZeroPoint, Qs8OutputParams outputParams,
    ReadOnlySpan<sbyte> input, ReadOnlySpan<sbyte> filter, ReadOnlySpan<int> bias, Span<sbyte> output);

public delegate void Qs8FullyConnectedKernel(int batch, int inputDepth, int outputDepth, int inputZeroPoint,
    int filterZeroPoint, Qs8OutputParams outputParams, ReadOnlySpan<sbyte> input, ReadOnlySpan<sbyte> filter,
    ReadOnlySpan<int> bias, Span<sbyte> output);

public delegate void Qs8AddKernel(in Qs8AddParams p, ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b, Span<sbyte> output);

public delegate void Qs8PoolKernel(in ConvGeometry g, int outputMin, int outputMax, ReadOnlySpan<sbyte> input,
    Span<sbyte> output);

public delegate void Qs8GlobalPoolKernel(in Qs8MeanParams p, ReadOnlySpan<sbyte> input, Span<sbyte> output);

/// <summary>
/// One ISA's kernels for every operator family the engine runs. The graph picks one set at model
/// load (<see cref="KernelRegistry"/>) and calls only through it; each entry computes exactly what
/// the reference kernel of its family computes (bit for bit for int8).
/// </summary>
public sealed record KernelSet(
    string Name,
    string Description,
    F32ConvKernel F32Conv2D,
    F32ConvKernel F32DepthwiseConv2D,
    F32FullyConnectedKernel F32FullyConnected,
    F32AddKernel F32Add,
    F32PoolKernel F32AveragePool2D,
    F32GlobalPoolKernel F32GlobalAveragePool,
    Qs8ConvKernel Qs8Conv2D,
    Qs8ConvKernel Qs8DepthwiseConv2D,
    Qs8FullyConnectedKernel Qs8FullyConnected,
    Qs8AddKernel Qs8Add,
    Qs8PoolKernel Qs8AveragePool2D,
    Qs8GlobalPoolKernel Qs8GlobalAveragePool)
{
    /// <summary>The scalar reference kernels: the oracle, and the path every machine can run.</summary>
    public static KernelSet Reference { get; } = new(
        "reference", "scalar reference kernels (portable, the oracle for every other path)",
        F32Reference.Conv2D, F32Reference.DepthwiseConv2D, F32Reference.FullyConnected, F32Reference.Add,
        F32Reference.AveragePool2D, F32Reference.GlobalAveragePool,
        Qs8Reference.Conv2D, Qs8Reference.DepthwiseConv2D, Qs8Reference.FullyConnected, Qs8Reference.Add,
        Qs8Reference.AveragePool2D, Qs8Reference.GlobalAveragePool);
}
