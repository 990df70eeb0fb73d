using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Kernels.Dispatch;

/// <summary>
/// A convolution-like kernel prepared once at model load: weights packed for its micro-kernel, bias and
/// clamp (fp32) or input zero point and requantization (int8) fused. <see cref="Run(ReadOnlySpan{T}, Span{T}, int, int)"/>
/// computes output rows [firstRow, firstRow + rowCount) of the flattened (batch * OutH) rows, so threads can split
/// a layer by rows; GEMM-shaped kernels can also split by output-channel blocks (<see cref="RunColumns"/>) and by
/// groups of a register tile's pixels (<see cref="RunPixelGroups"/>).
/// Run allocates nothing and may be called concurrently on disjoint ranges.
/// </summary>
public abstract class ConvolutionKernel<T>(in ConvGeometry geometry, string name) where T : unmanaged
{
    public ConvGeometry Geometry { get; } = geometry;

    /// <summary>XNNPACK-style name: what (algorithm and tile) and where (ISA), e.g. F32Igemm_6x16_Avx2.</summary>
    public string Name { get; } = name;

    /// <summary>Rows a caller may split: Batch * OutH.</summary>
    public int Rows => Geometry.Batch * Geometry.OutH;

    /// <summary>False for kernels that can only compute the whole output at once (the reference wrappers).</summary>
    public virtual bool SupportsRowRanges => true;

    public abstract void Run(ReadOnlySpan<T> input, Span<T> output, int firstRow, int rowCount);

    public void Run(ReadOnlySpan<T> input, Span<T> output) => Run(input, output, 0, Rows);

    /// <summary>
    /// Blocks of output channels the kernel can also be split by (<see cref="RunColumns"/>), 0 when it cannot.
    /// Splitting by channels shares the weights out between threads instead of streaming all of them per row
    /// range: the better split for late layers, with few pixels and many channels.
    /// </summary>
    public virtual int ColumnBlocks => 0;

    /// <summary>
    /// Whether each <see cref="ComputeBlocks"/> call first stages its pixels' input rows (converted or gathered into
    /// im2col rows): split by output channels, every chunk stages the same rows again, so a caller should give each
    /// thread one share of the blocks rather than many small chunks.
    /// </summary>
    public virtual bool StagesRows => false;

    /// <summary>Computes every output pixel for output-channel blocks [firstBlock, firstBlock + blockCount).</summary>
    public void RunColumns(ReadOnlySpan<T> input, Span<T> output, int firstBlock, int blockCount)
    {
        if (ColumnBlocks == 0) throw new NotSupportedException($"{Name} cannot split by output channels");
        CheckRun(input.Length, output.Length, 0, Rows);
        if (firstBlock < 0 || blockCount < 0 || firstBlock + blockCount > ColumnBlocks)
            throw new ArgumentOutOfRangeException(nameof(firstBlock), $"blocks [{firstBlock}, {firstBlock + blockCount}) outside [0, {ColumnBlocks})");
        ComputeBlocks(input, output, 0, Rows * Geometry.OutW, firstBlock, firstBlock + blockCount);
    }

    /// <summary>
    /// Output pixels per register tile of a kernel with <see cref="ColumnBlocks"/> (0 for the others): the unit of
    /// <see cref="RunPixelGroups"/>.
    /// </summary>
    public virtual int TilePixels => 0;

    /// <summary>
    /// Groups of <see cref="TilePixels"/> output pixels a caller may split the kernel by (<see cref="RunPixelGroups"/>),
    /// 0 when it cannot. Finer and tile-aligned where rows are not: a 14-pixel row is two full tiles and a third of
    /// two rows, so split by rows a 14x14 layer ran a part-empty tile in every range.
    /// </summary>
    public int PixelGroups => TilePixels > 0 && ColumnBlocks > 0 ? (Rows * Geometry.OutW + TilePixels - 1) / TilePixels : 0;

    /// <summary>Computes every output channel for output pixels [firstGroup, firstGroup + groupCount) x <see cref="TilePixels"/>.</summary>
    public void RunPixelGroups(ReadOnlySpan<T> input, Span<T> output, int firstGroup, int groupCount)
    {
        if (PixelGroups == 0) throw new NotSupportedException($"{Name} cannot split by pixel groups");
        CheckRun(input.Length, output.Length, 0, Rows);
        if (firstGroup < 0 || groupCount < 0 || firstGroup + groupCount > PixelGroups)
            throw new ArgumentOutOfRangeException(nameof(firstGroup), $"pixel groups [{firstGroup}, {firstGroup + groupCount}) outside [0, {PixelGroups})");
        int pixels = Rows * Geometry.OutW;
        ComputeBlocks(input, output, firstGroup * TilePixels, Math.Min((firstGroup + groupCount) * TilePixels, pixels), 0, ColumnBlocks);
    }

    /// <summary>For kernels with <see cref="ColumnBlocks"/>: output pixels [p0, p1) x output-channel blocks [nb0, nb1).</summary>
    protected virtual void ComputeBlocks(ReadOnlySpan<T> input, Span<T> output, int p0, int p1, int nb0, int nb1) =>
        throw new NotSupportedException($"{Name} cannot split by output channels");

    /// <summary><see cref="Run(ReadOnlySpan{T}, Span{T}, int, int)"/> of a kernel with <see cref="ColumnBlocks"/>: the rows' pixels x every block.</summary>
    protected void RunRowsAsBlocks(ReadOnlySpan<T> input, Span<T> output, int firstRow, int rowCount)
    {
        CheckRun(input.Length, output.Length, firstRow, rowCount);
        ComputeBlocks(input, output, firstRow * Geometry.OutW, (firstRow + rowCount) * Geometry.OutW, 0, ColumnBlocks);
    }

    protected void CheckRun(int inputLength, int outputLength, int firstRow, int rowCount)
    {
        var g = Geometry;
        if (inputLength != (long)g.Batch * g.InH * g.InW * g.InC)
            throw new ArgumentException($"input has {inputLength} elements, {Name} expects {(long)g.Batch * g.InH * g.InW * g.InC}");
        if (outputLength != (long)g.Batch * g.OutH * g.OutW * g.OutC)
            throw new ArgumentException($"output has {outputLength} elements, {Name} expects {(long)g.Batch * g.OutH * g.OutW * g.OutC}");
        if (firstRow < 0 || rowCount < 0 || firstRow + rowCount > Rows)
            throw new ArgumentOutOfRangeException(nameof(firstRow), $"rows [{firstRow}, {firstRow + rowCount}) outside [0, {Rows})");
        if (!SupportsRowRanges && (firstRow != 0 || rowCount != Rows))
            throw new ArgumentException($"{Name} computes whole outputs only");
    }
}

/// <summary>An fp32 <see cref="ConvolutionKernel{T}"/>: bias and clamp fused.</summary>
public abstract class F32ConvolutionKernel(in ConvGeometry geometry, string name) : ConvolutionKernel<float>(geometry, name);

/// <summary>An int8 <see cref="ConvolutionKernel{T}"/>: bias, input zero point and requantization fused.</summary>
public abstract class Qs8ConvolutionKernel(in ConvGeometry geometry, string name) : ConvolutionKernel<sbyte>(geometry, name);

/// <summary>Packs an fp32 Conv2D (filter [OutC, KH, KW, InC]) or DepthwiseConv2D (filter [1, KH, KW, OutC]).</summary>
public delegate F32ConvolutionKernel F32ConvolutionFactory(in ConvGeometry g, ReadOnlySpan<float> filter,
    ReadOnlySpan<float> bias, float outputMin, float outputMax);

/// <summary>Packs an fp32 FullyConnected (filter [outputDepth, inputDepth]); the kernel's rows are the batch.</summary>
public delegate F32ConvolutionKernel F32FullyConnectedFactory(int batch, int inputDepth, int outputDepth,
    ReadOnlySpan<float> filter, ReadOnlySpan<float> bias, float outputMin, float outputMax);

/// <summary>Packs an int8 Conv2D or DepthwiseConv2D (filter zero point 0, as TFLite's int8 scheme).</summary>
public delegate Qs8ConvolutionKernel Qs8ConvolutionFactory(in ConvGeometry g, int inputZeroPoint,
    Qs8OutputParams outputParams, ReadOnlySpan<sbyte> filter, ReadOnlySpan<int> bias);

/// <summary>Packs an int8 FullyConnected; the kernel's rows are the batch.</summary>
public delegate Qs8ConvolutionKernel Qs8FullyConnectedFactory(int batch, int inputDepth, int outputDepth,
    int inputZeroPoint, int filterZeroPoint, Qs8OutputParams outputParams, ReadOnlySpan<sbyte> filter,
    ReadOnlySpan<int> bias);

/// <summary>Geometry of a fully connected layer seen as a 1x1 convolution over batch x 1 x 1 pixels.</summary>
public static class FullyConnectedGeometry
{
    public static ConvGeometry Of(int batch, int inputDepth, int outputDepth) =>
        new(batch, 1, 1, inputDepth, 1, 1, outputDepth, 1, 1, 1, 1, 1, 1, 0, 0);
}
