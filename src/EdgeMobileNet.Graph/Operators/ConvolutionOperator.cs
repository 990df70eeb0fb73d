using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Kernels.Dispatch;
using EdgeMobileNet.Kernels;
using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Graph.Operators;

/// <summary>
/// Conv2D and DepthwiseConv2D (fp32 and int8): the kernel set's factory packs the weights once here, at load;
/// Run splits the work over the session's worker pool (<see cref="WorkSplit"/>, <see cref="KernelOperator{T}"/>).
/// </summary>
public static class ConvolutionOperator
{
    public static PreparedOperator Create(OperatorBinding b)
    {
        bool depthwise = b.Op.Type == OperatorType.DepthwiseConv2D;
        var filterShape = b.InputTensor(1).Shape;
        var g = b.Geometry(filterShape[1], filterShape[2], depthwise ? b.Op.Attributes.DepthMultiplier : 1);
        var bias = b.HasInput(2) ? b.Input(2) : TensorBuffer.Empty;
        if (!b.IsInt8)
        {
            var (min, max) = b.F32ActivationRange();
            var factory = depthwise ? b.Kernels.F32DepthwiseConv2D : b.Kernels.F32Conv2D;
            var kernel = factory(g, b.Input(1).AsReadOnly<float>(), bias.AsReadOnly<float>(), min, max);
            return new KernelOperator<float>(b.Op, b.Index, kernel, b.Input(0), b.Output(0), b.Pool);
        }
        var input = b.InputTensor(0).Quantization!;
        var filter = b.InputTensor(1).Quantization!;
        var output = b.OutputTensor(0).Quantization!;
        var (qmin, qmax) = b.Qs8ActivationRange();
        var requant = Qs8OutputParams.FromScales(input.Scale, filter.Scales, output.Scale, output.ZeroPoint, qmin, qmax);
        var qfactory = depthwise ? b.Kernels.Qs8DepthwiseConv2D : b.Kernels.Qs8Conv2D;
        var qkernel = qfactory(g, input.ZeroPoint, requant, b.Input(1).AsReadOnly<sbyte>(), bias.AsReadOnly<int>());
        return new KernelOperator<sbyte>(b.Op, b.Index, qkernel, b.Input(0), b.Output(0), b.Pool);
    }
}

/// <summary>How a prepared kernel's work is shared out over the pool.</summary>
internal static class WorkSplit
{
    /// <summary>
    /// A depthwise Mult-Add costs about this many GEMM ones (measured on AVX2: 5-10 against 40-80 GMAC/s), so
    /// depthwise layers count that much more against <see cref="SessionOptions.MinParallelMultAdds"/>.
    /// </summary>
    private const int DepthwiseCost = 6;

    /// <summary>The pool, or null for a layer too small to share (<see cref="SessionOptions.MinParallelMultAdds"/>).</summary>
    public static WorkerPool? PoolFor(in ConvGeometry g, bool depthwise, WorkerPool? pool) =>
        pool is not null &&
        (long)g.Batch * g.OutH * g.OutW * g.OutC * g.KernelH * g.KernelW * (depthwise ? DepthwiseCost : g.InC) >= pool.MinParallelMultAdds
            ? pool : null;

    /// <summary>
    /// True to split by output-channel blocks: when the layer has fewer output pixels than output channels (its
    /// weights outweigh its input, and every row range would stream all of them again) or too few rows to share.
    /// </summary>
    public static bool ByColumns(in ConvGeometry g, int columnBlocks, WorkerPool? pool)
    {
        if (pool is null || columnBlocks < 2 * pool.Threads) return false;
        long pixels = (long)g.Batch * g.OutH * g.OutW;
        return pixels < g.OutC || g.Batch * g.OutH < 2 * pool.Threads;
    }

    /// <summary>
    /// The units a split by output channels hands out: the blocks themselves, or for a kernel that stages its rows on
    /// every call one contiguous share per thread, so the rows are staged once per thread instead of once per chunk.
    /// With the blocks as units, V1 1.0-224 int8's 14x14 and 7x7 layers staged their 100 KB of rows in each of 8
    /// chunks at 2 threads; one share per thread ran them 1.06-1.15x as fast (one process, the two in turn; V2's
    /// late layers 1.04-1.18x; fp32, which reads its rows in place, unchanged).
    /// </summary>
    public static int ColumnUnits(int columnBlocks, bool stagesRows, WorkerPool pool) => stagesRows ? pool.Threads : columnBlocks;

    /// <summary>Output-channel blocks [first, first + count) for units [firstUnit, firstUnit + unitCount) of <paramref name="units"/> equal shares.</summary>
    public static (int First, int Count) UnitBlocks(int firstUnit, int unitCount, int units, int columnBlocks)
    {
        int first = (int)((long)firstUnit * columnBlocks / units), end = (int)((long)(firstUnit + unitCount) * columnBlocks / units);
        return (first, end - first);
    }
}

/// <summary>Runs a prepared kernel, split over the pool by output channels, pixel groups or rows when there is one.</summary>
internal sealed class KernelOperator<T>(OperatorDefinition def, int index, ConvolutionKernel<T> kernel,
    TensorBuffer input, TensorBuffer output, WorkerPool? pool) : PreparedOperator(def, index), IRowWork
    where T : unmanaged
{
    private readonly WorkerPool? _pool = WorkSplit.PoolFor(kernel.Geometry, def.Type == OperatorType.DepthwiseConv2D, pool);
    private readonly bool _byColumns = WorkSplit.ByColumns(kernel.Geometry, kernel.ColumnBlocks, pool);
    private readonly int _columnUnits = pool is null ? 0 : WorkSplit.ColumnUnits(kernel.ColumnBlocks, kernel.StagesRows, pool);
    // Otherwise GEMM-shaped kernels split by whole register tiles of pixels, the rest by output rows.
    private readonly bool _byPixelGroups = kernel.PixelGroups > 1;

    public override string KernelName => kernel.Name;

    public override void Run()
    {
        if (_pool is null) kernel.Run(input.AsReadOnly<T>(), output.As<T>());
        else if (_byColumns) _pool.Run(this, _columnUnits);
        else if (_byPixelGroups) _pool.Run(this, kernel.PixelGroups);
        else if (kernel.SupportsRowRanges && kernel.Rows > 1) _pool.Run(this, kernel.Rows);
        else kernel.Run(input.AsReadOnly<T>(), output.As<T>());
    }

    public void RunRows(int first, int count)
    {
        if (_byColumns)
        {
            var (firstBlock, blocks) = WorkSplit.UnitBlocks(first, count, _columnUnits, kernel.ColumnBlocks);
            kernel.RunColumns(input.AsReadOnly<T>(), output.As<T>(), firstBlock, blocks);
        }
        else if (_byPixelGroups) kernel.RunPixelGroups(input.AsReadOnly<T>(), output.As<T>(), first, count);
        else kernel.Run(input.AsReadOnly<T>(), output.As<T>(), first, count);
    }
}
