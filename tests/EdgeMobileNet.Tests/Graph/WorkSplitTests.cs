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

/// <summary>A residual Add large enough to be shared out in chunks: every thread count gives the one-thread result.</summary>
public class ThreadedAddTests
{
    private static EdgeMobileNet.Format.Model.ModelDefinition AddModel(bool int8)
    {
        // 40 x 40 x 25 = 40000 elements: 19 whole chunks of 2048 and a last one of 1088 (a vector tail in it).
        var type = int8 ? EdgeMobileNet.Format.Model.DataType.Int8 : EdgeMobileNet.Format.Model.DataType.Float32;
        EdgeMobileNet.Format.Model.QuantizationInfo? Q(float scale, int zp) => int8 ? new([scale], [zp]) : null;
        var m = new EdgeMobileNet.Format.Model.ModelDefinition { Name = "add" };
        int a = m.AddTensor(new EdgeMobileNet.Format.Model.TensorDefinition("a", type, [1, 40, 40, 25], Q(0.05f, 3)));
        int b = m.AddTensor(new EdgeMobileNet.Format.Model.TensorDefinition("b", type, [1, 40, 40, 25], Q(0.031f, -7)));
        int sum = m.AddTensor(new EdgeMobileNet.Format.Model.TensorDefinition("sum", type, [1, 40, 40, 25], Q(0.07f, -2)));
        m.Inputs.Add(a);
        m.Inputs.Add(b);
        m.Outputs.Add(sum);
        m.Operators.Add(new EdgeMobileNet.Format.Model.OperatorDefinition(EdgeMobileNet.Format.Model.OperatorType.Add, [a, b], [sum], default, "add"));
        return m;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ChunkedAddMatchesOneThread(bool int8)
    {
        var model = AddModel(int8);
        byte[] Run(int threads, string isa)
        {
            using var session = InferenceSession.Create(model, new SessionOptions { Threads = threads, Isa = isa, MinParallelMultAdds = 0 });
            for (int i = 0; i < 2; i++)
            {
                var input = session.InputBytes(i);
                new Random(21 + i).NextBytes(input);
                if (!int8) foreach (ref float v in session.Input<float>(i)) v = float.IsFinite(v) ? Math.Clamp(v, -50f, 50f) : 1f;
            }
            session.Run();
            if (threads > 1) Assert.Equal(0, AllocationMeter.SteadyStateBytes(session.Run)); // the chunks allocate nothing either
            return session.OutputBytes(0).ToArray();
        }
        var expected = Run(1, "reference");
        foreach (var set in EdgeMobileNet.Kernels.Dispatch.KernelRegistry.Supported)
            foreach (int threads in new[] { 1, 2, 3 })
                Assert.True(expected.AsSpan().SequenceEqual(Run(threads, set.Name)), $"{set.Name} at {threads} threads differs from the reference");
    }

    [Fact]
    public void ChunksCoverEveryElementOnce()
    {
        foreach (int elements in new[] { 1, 2047, 2048, 2049, 40000 })
        {
            int chunks = (elements + 2047) / 2048, next = 0;
            for (int c = 0; c < chunks; c++)
            {
                var (start, length) = AddOperator.Chunks(c, 1, elements);
                Assert.Equal(next, start);
                Assert.True(length > 0 && length <= 2048);
                next = start + length;
            }
            Assert.Equal(elements, next);
            Assert.Equal((0, elements), AddOperator.Chunks(0, chunks, elements));
        }
    }
}
