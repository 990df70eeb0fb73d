using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Kernels.Reference;
using EdgeMobileNet.Zoo;
using Xunit;

namespace EdgeMobileNet.Tests.Kernels;

/// <summary>Optimized kernel sets inside whole models: same outputs as the reference, any thread count, no allocation.</summary>
public class ThreadedSessionTests
{
    public static TheoryData<string, bool> Models => new()
    {
        { "v1", false }, { "v1", true }, { "v2", false }, { "v2", true },
    };

    private static ModelDefinition Build(string arch, bool int8)
    {
        var f32 = arch == "v1" ? MobileNetV1.Build(0.25f, 96, 1000) : MobileNetV2.Build(0.35f, 64, 1000);
        return int8 ? PostTrainingQuantizer.Quantize(f32, PostTrainingQuantizer.SyntheticCalibration(f32, 2, 5)) : f32;
    }

    private static void Fill(InferenceSession session, ModelDefinition model)
    {
        var image = PostTrainingQuantizer.SyntheticCalibration(model, 1, 31).First();
        if (session.InputTensor(0).DataType == DataType.Int8)
        {
            var q = session.InputTensor(0).Quantization!;
            F32Reference.Quantize(image, session.Input<sbyte>(0), q.Scale, q.ZeroPoint);
        }
        else image.CopyTo(session.Input<float>(0));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void TwoThreadsAllocateNothing(string arch, bool int8)
    {
        using var session = InferenceSession.Create(Build(arch, int8), new SessionOptions { Threads = 2, Isa = "vector128", MinParallelMultAdds = 0 });
        Assert.Equal(2, session.Threads);
        session.Run();
        Assert.Equal(0, AllocationMeter.SteadyStateBytes(session.Run));
    }

    /// <summary>Every run after an idle gap (a camera's pace) wakes the parked worker and steers it off the caller's CPU: still nothing allocated.</summary>
    [Fact]
    public void RunsAfterIdleGapsAllocateNothing()
    {
        using var session = InferenceSession.Create(Build("v1", true), new SessionOptions { Threads = 2, MinParallelMultAdds = 0 });
        Assert.Equal(2, session.Threads);
        // 5 ms: well past the worker's 200 us of spinning, so it parks and each Run wakes it.
        Assert.Equal(0, AllocationMeter.SteadyStateBytes(() => { Thread.Sleep(5); session.Run(); }));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void OptimizedSetsMatchReferenceAtAnyThreadCount(string arch, bool int8)
    {
        var model = Build(arch, int8);
        using var reference = InferenceSession.Create(model, new SessionOptions { Isa = "reference", Threads = 2 });
        Assert.Equal(1, reference.Threads);
        Fill(reference, model);
        reference.Run();
        var expected = reference.OutputBytes(0).ToArray();
        foreach (var set in EdgeMobileNet.Kernels.Dispatch.KernelRegistry.Supported)
        {
            foreach (int threads in new[] { 1, 2, 3 })
            {
                using var session = InferenceSession.Create(model, new SessionOptions { Isa = set.Name, Threads = threads, MinParallelMultAdds = 0 });
                Fill(session, model);
                session.Run();
                if (int8)
                {
                    Assert.True(expected.AsSpan().SequenceEqual(session.OutputBytes(0)), $"{set.Name} threads {threads}: int8 output differs");
                }
                else
                {
                    var e = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(expected);
                    var a = session.Output<float>(0);
                    for (int i = 0; i < e.Length; i++)
                        Assert.True(Math.Abs(e[i] - a[i]) <= 1e-4f * Math.Max(1f, Math.Abs(e[i])), $"{set.Name} threads {threads}: output {i} {a[i]} vs {e[i]}");
                }
            }
        }
    }

    [Fact]
    public void PoolRunsEveryRowOnce()
    {
        using var pool = new WorkerPool(3);
        var work = new Counter(1000);
        for (int r = 0; r < 50; r++) pool.Run(work, 1000);
        Assert.All(work.Hits, h => Assert.Equal(50, h));
    }

    private sealed class Counter(int rows) : IRowWork
    {
        public int[] Hits { get; } = new int[rows];

        public void RunRows(int first, int count)
        {
            for (int i = first; i < first + count; i++) Interlocked.Increment(ref Hits[i]);
        }
    }
}
