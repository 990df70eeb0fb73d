using System.Runtime.Intrinsics.X86;
using EdgeMobileNet.Graph.Operators;
using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Kernels;
using EdgeMobileNet.Kernels.Quantization;
using EdgeMobileNet.Kernels.Simd;
using Xunit;

namespace EdgeMobileNet.Tests.Graph;

/// <summary>How a layer split by output channels is shared out: blocks, or one share per thread for kernels that stage rows.</summary>
public class WorkSplitTests
{
    [Fact]
    public void UnitsCoverEveryBlockOnceInOrder()
    {
        for (int blocks = 1; blocks <= 70; blocks++)
        {
            foreach (int units in new[] { 1, 2, 3, 4, 5, 7, blocks })
            {
                if (units > blocks) continue;
                int next = 0;
                for (int u = 0; u < units; u++)
                {
                    var (first, count) = WorkSplit.UnitBlocks(u, 1, units, blocks);
                    Assert.Equal(next, first);
                    Assert.True(count >= blocks / units && count <= (blocks + units - 1) / units, $"{blocks} blocks in {units} units: unit {u} has {count}");
                    next = first + count;
                }
                Assert.Equal(blocks, next);
                // A range of units is the blocks of its units together (the pool hands out several at once).
                for (int u = 0; u + 2 <= units; u++)
                {
                    var (first, count) = WorkSplit.UnitBlocks(u, 2, units, blocks);
                    var (a, b) = (WorkSplit.UnitBlocks(u, 1, units, blocks), WorkSplit.UnitBlocks(u + 1, 1, units, blocks));
                    Assert.Equal((a.First, a.Count + b.Count), (first, count));
                }
            }
        }
    }

    [Fact]
    public void KernelsThatStageRowsSplitColumnsIntoOneSharePerThread()
    {
        using var pool = new WorkerPool(3);
        Assert.Equal(3, WorkSplit.ColumnUnits(32, stagesRows: true, pool));
        Assert.Equal(32, WorkSplit.ColumnUnits(32, stagesRows: false, pool));
    }

    [Fact]
    public void KernelsSayWhetherTheyStageRows()
    {
        var pointwise = new ConvGeometry(1, 8, 8, 64, 8, 8, 32, 1, 1, 1, 1, 1, 1, 0, 0);
        var firstLayer = new ConvGeometry(1, 16, 16, 3, 8, 8, 32, 3, 3, 2, 2, 1, 1, 1, 1);
        var requant = Qs8OutputParams.FromScales(1.0, [0.001f], 1.0, 0, -128, 127);
        bool Int8(EdgeMobileNet.Kernels.Dispatch.KernelSet set, in ConvGeometry g) =>
            set.Qs8Conv2D(g, 0, requant, new sbyte[g.OutC * g.KernelH * g.KernelW * g.InC], new int[g.OutC]).StagesRows;
        bool F32(EdgeMobileNet.Kernels.Dispatch.KernelSet set, in ConvGeometry g) =>
            set.F32Conv2D(g, new float[g.OutC * g.KernelH * g.KernelW * g.InC], new float[g.OutC], 0, 6).StagesRows;
        // fp32 and the int8-product GEMM read a pointwise layer's rows in place; windows are staged as im2col rows.
        Assert.False(F32(SimdKernelSets.Vector128Set, pointwise));
        Assert.True(F32(SimdKernelSets.Vector128Set, firstLayer));
        Assert.False(Int8(SimdKernelSets.Vector128Int8ProductsSet, pointwise));
        Assert.True(Int8(SimdKernelSets.Vector128Int8ProductsSet, firstLayer));
        // The indirect int16 GEMM reads every row through pointers.
        Assert.False(Int8(SimdKernelSets.Vector128Set, pointwise));
        if (!Avx2.IsSupported) return;
        // The AVX2 GEMMs stage unsigned or int16 rows for every layer.
        Assert.True(Int8(SimdKernelSets.Avx2Set, pointwise));
        Assert.True(Int8(SimdKernelSets.Avx2Set, firstLayer));
    }
}
