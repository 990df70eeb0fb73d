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

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void PoolRunsEveryRowOnceAtAnyRowCount(int threads)
    {
        using var pool = new WorkerPool(threads);
        foreach (int rows in new[] { 1, 2, 3, 5, 7, 8, 13, 16, 31, 33, 97, 112, 1000, 4099 })
        {
            var work = new Counter(rows);
            for (int r = 0; r < 5; r++) pool.Run(work, rows);
            Assert.All(work.Hits, h => Assert.Equal(5, h));
        }
    }

    /// <summary>
    /// Runs separated by gaps from none to past the workers' spinning (so they park, and some wake only after the caller
    /// has finished a run alone and started the next): every row of every run exactly once, and no worker still inside
    /// a run once it returns (the rows' counts are read right after each Run).
    /// </summary>
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void PoolRunsEveryRowOnceAcrossIdleGaps(int threads)
    {
        using var pool = new WorkerPool(threads);
        var random = new Random(17);
        for (int r = 0; r < 300; r++)
        {
            int rows = random.Next(2, 40);
            var work = new Counter(rows);
            int gap = random.Next(4) switch { 0 => 0, 1 => 50, 2 => 400, _ => 2000 }; // microseconds
            long until = System.Diagnostics.Stopwatch.GetTimestamp() + System.Diagnostics.Stopwatch.Frequency * gap / 1_000_000;
            while (System.Diagnostics.Stopwatch.GetTimestamp() < until) Thread.SpinWait(10);
            pool.Run(work, rows);
            Assert.All(work.Hits, h => Assert.Equal(1, h));
            Assert.Equal(rows, work.Chunks.Sum(c => c.Count));
        }
    }

    /// <summary>
    /// A row that throws, on whichever thread runs it, surfaces from Run (wrapped when a worker threw it), and the pool
    /// stays usable: the next run does every row once.
    /// </summary>
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void AFailingRowSurfacesAndThePoolStaysUsable(int threads)
    {
        using var pool = new WorkerPool(threads);
        for (int r = 0; r < 64; r++)
        {
            var e = Assert.ThrowsAny<Exception>(() => pool.Run(new FailingRow(r), 64));
            var inner = e is AggregateException wrapped ? wrapped.InnerException : e;
            Assert.IsType<InvalidOperationException>(inner);
            Assert.Equal($"row {r} failed", inner!.Message);
            var work = new Counter(64);
            pool.Run(work, 64);
            Assert.All(work.Hits, h => Assert.Equal(1, h));
        }
    }

    private sealed class FailingRow(int row) : IRowWork
    {
        public void RunRows(int first, int count)
        {
            if (row >= first && row < first + count) throw new InvalidOperationException($"row {row} failed");
        }
    }

    /// <summary>A worker that wakes after the caller has finished a run alone cannot join it (it would count itself into the next).</summary>
    [Fact]
    public void AFinishedRunCannotBeJoined()
    {
        using var pool = new WorkerPool(2);
        Assert.False(pool.TryJoin()); // no run yet
        var work = new Counter(64);
        pool.Run(work, 64);
        Assert.False(pool.TryJoin());
        Assert.All(work.Hits, h => Assert.Equal(1, h));
    }

    /// <summary>
    /// Thread t's share is rows [rows x t / threads, rows x (t + 1) / threads): no chunk crosses a share's bounds, none
    /// takes more than half a share, and in each share the chunks shrink towards the point where the front (its
    /// thread's) and the back (other threads') claims met, none under 1 / (8 x threads) of the rows but the last
    /// (a GEMM split by pixels streams its weights once per chunk).
    /// </summary>
    [Theory]
    [InlineData(2, 112)]
    [InlineData(2, 1000)]
    [InlineData(4, 196)]
    [InlineData(3, 64)]
    [InlineData(3, 7)]
    public void PoolHandsOutEachShareInShrinkingChunks(int threads, int rows)
    {
        using var pool = new WorkerPool(threads);
        for (int run = 0; run < 20; run++)
        {
            var work = new Counter(rows);
            pool.Run(work, rows);
            Assert.All(work.Hits, h => Assert.Equal(1, h));
            int smallest = Math.Max(1, rows / (8 * Math.Min(threads, rows)));
            for (int t = 0; t < threads; t++)
            {
                int shareFirst = rows * t / threads, shareEnd = rows * (t + 1) / threads;
                var chunks = work.Chunks.Where(c => c.First >= shareFirst && c.First < shareEnd).OrderBy(c => c.First).ToArray();
                Assert.Equal(shareEnd - shareFirst, chunks.Sum(c => c.Count)); // inside the share, and all of it
                Assert.All(chunks, c => Assert.True(c.Count <= Math.Max(smallest, (shareEnd - shareFirst + 1) / 2),
                    $"a chunk of {c.Count} rows in a share of {shareEnd - shareFirst}"));
                Assert.True(chunks.Count(c => c.Count < smallest) <= 1, $"share {t}: {string.Join(", ", chunks.Select(c => c.Count))}");
                // Sizes fall, then (the back claims, taken from the end) rise again: a single valley.
                int valley = 0;
                while (valley + 1 < chunks.Length && chunks[valley + 1].Count <= chunks[valley].Count) valley++;
                for (int i = valley + 1; i < chunks.Length; i++)
                    Assert.True(chunks[i].Count >= chunks[i - 1].Count, $"share {t}: {string.Join(", ", chunks.Select(c => c.Count))}");
            }
        }
    }

    /// <summary>
    /// Each thread starts on its own share: held in its first chunk until the worker has run one, the caller's first
    /// chunk is the front of the first share and the worker's the front of the second, whichever thread is faster.
    /// This is what keeps a layer's rows on the thread that wrote its input. Done with its share while the caller is
    /// still held, the worker takes the caller's rows from the back (the caller's next chunk stays next to its first).
    /// </summary>
    [Fact]
    public void EachThreadStartsOnItsOwnShare()
    {
        using var pool = new WorkerPool(2);
        for (int run = 0; run < 20; run++)
        {
            var work = new FirstChunks();
            pool.Run(work, 64);
            Assert.True(work.WorkerFirst >= 0, "the worker never ran a chunk within 5 s");
            Assert.Equal(0, work.CallerFirst);
            Assert.Equal(32, work.WorkerFirst);
            Assert.Equal(32, work.WorkerStolenEnd);
        }
    }

    private sealed class FirstChunks : IRowWork
    {
        private readonly int _caller = Environment.CurrentManagedThreadId;
        public int CallerFirst = -1, WorkerFirst = -1, WorkerStolenEnd = -1;

        public void RunRows(int first, int count)
        {
            if (Environment.CurrentManagedThreadId != _caller)
            {
                Interlocked.CompareExchange(ref WorkerFirst, first, -1);
                if (first < 32) Interlocked.CompareExchange(ref WorkerStolenEnd, first + count, -1);
                return;
            }
            if (CallerFirst >= 0) return;
            CallerFirst = first;
            // Held until the worker has run its share and taken a chunk of this one.
            var wait = System.Diagnostics.Stopwatch.StartNew();
            while (Volatile.Read(ref WorkerStolenEnd) < 0 && wait.ElapsedMilliseconds < 5000) Thread.Sleep(1);
        }
    }

    private sealed class Counter(int rows) : IRowWork
    {
        public int[] Hits { get; } = new int[rows];
        public System.Collections.Concurrent.ConcurrentBag<(int First, int Count)> Chunks { get; } = [];

        public void RunRows(int first, int count)
        {
            Chunks.Add((first, count));
            for (int i = first; i < first + count; i++) Interlocked.Increment(ref Hits[i]);
        }
    }
}
