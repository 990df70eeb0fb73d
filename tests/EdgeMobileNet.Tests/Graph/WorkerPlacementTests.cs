using System.Numerics;
using Xunit;
using EdgeMobileNet.Graph.Runtime;

namespace EdgeMobileNet.Tests.Graph;

/// <summary>Waking a parked worker moves it off the waker's CPU (Linux), and never touches the waker itself.</summary>
public class WorkerPlacementTests
{
    private static int Count(ulong[] mask) => mask.Sum(w => BitOperations.PopCount(w));

    private static List<int> Cpus(ulong[] mask) =>
        Enumerable.Range(0, mask.Length * 64).Where(c => (mask[c / 64] & (1UL << (c % 64))) != 0).ToList();

    [SkippableFact]
    public void KeptOffCpuLeavesEveryOtherAllowedCpu()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "thread placement is Linux-only");
        var allowed = WorkerPlacement.ProcessCpus();
        Assert.NotNull(allowed);
        int avoided = Cpus(allowed)[0];
        using var ready = new ManualResetEventSlim();
        using var go = new ManualResetEventSlim();
        int threadId = 0, ranOn = -1;
        ulong[]? after = null;
        var thread = new Thread(() =>
        {
            threadId = WorkerPlacement.CurrentThreadId();
            ready.Set();
            go.Wait();
            after = WorkerPlacement.CpusOf(0);
            ranOn = WorkerPlacement.CurrentCpu();
        });
        thread.Start();
        ready.Wait();
        Assert.True(threadId > 0);
        WorkerPlacement.KeepOffCpu(threadId, allowed, avoided);
        go.Set();
        thread.Join();

        Assert.NotNull(after);
        if (Count(allowed) == 1)
        {
            Assert.Equal(allowed, after); // nowhere else to go: unchanged
            return;
        }
        var expected = (ulong[])allowed.Clone();
        expected[avoided / 64] &= ~(1UL << (avoided % 64));
        Assert.Equal(expected, after);
        Assert.NotEqual(avoided, ranOn);
    }

    [SkippableFact]
    public void NoThreadIdOrNoMaskChangesNothing()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "thread placement is Linux-only");
        var before = WorkerPlacement.CpusOf(0);
        Assert.NotNull(before);
        WorkerPlacement.KeepOffCurrentCpu(0, before); // 0 would name the calling thread: must be refused
        WorkerPlacement.KeepOffCpu(-1, before, WorkerPlacement.CurrentCpu());
        WorkerPlacement.KeepOffCurrentCpu(WorkerPlacement.CurrentThreadId(), null);
        WorkerPlacement.KeepOffCpu(WorkerPlacement.CurrentThreadId(), before, 1 << 20); // no such CPU
        Assert.Equal(before, WorkerPlacement.CpusOf(0));
    }

    [SkippableFact]
    public void PoolSteersAWokenWorkerOffOneCpu()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "thread placement is Linux-only");
        var allowed = WorkerPlacement.ProcessCpus();
        Assert.NotNull(allowed);
        Skip.If(Count(allowed) < 2 || Environment.ProcessorCount < 2, "needs two CPUs");
        using var pool = new WorkerPool(2);
        var work = new Rows();
        // The next Run must wake the worker: wait until it has started, given up spinning and parked (on a loaded
        // machine a fixed sleep was not always long enough for the thread even to start).
        Assert.True(SpinWait.SpinUntil(() => pool.IsParked(0), TimeSpan.FromSeconds(30)), "the worker never parked");
        pool.Run(work, 64);
        int worker = pool.WorkerThreadIds[0];
        Assert.True(worker > 0);
        var mask = WorkerPlacement.CpusOf(worker);
        Assert.NotNull(mask);
        Assert.Equal(Count(allowed) - 1, Count(mask));
        Assert.All(Cpus(mask), c => Assert.Contains(c, Cpus(allowed)));
        Assert.Equal(64, work.Done);
    }

    private sealed class Rows : IRowWork
    {
        private int _done;
        public int Done => _done;
        public void RunRows(int first, int count) => Interlocked.Add(ref _done, count);
    }
}
