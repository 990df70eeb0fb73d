using System.Diagnostics;

namespace EdgeMobileNet.Graph.Runtime;

/// <summary>Work a <see cref="WorkerPool"/> can split: computes rows [first, first + count).</summary>
public interface IRowWork
{
    void RunRows(int first, int count);
}

/// <summary>
/// A persistent pool for one session: <c>threads - 1</c> background workers created once; the calling thread works
/// too. Between layers a worker spins on the run generation for up to <see cref="SpinMicroseconds"/> before it parks
/// on its <see cref="ManualResetEventSlim"/>: a layer that follows within that time (nearly all of them inside
/// one inference) starts without a kernel wake-up, which on a VM costs as much as a small layer. A parked worker is
/// steered off the caller's CPU as it is woken (<see cref="WorkerPlacement"/>), and the caller does not wait for it:
/// a worker joins a run only while the run is open, and the caller closes the run once every row is handed out, so
/// after an idle gap the first layers run on the caller alone until the worker is up. <see cref="Run"/> gives each
/// thread its own contiguous share of the rows (the caller the first, worker i the (i + 1)-th): a thread takes its
/// share in shrinking chunks from the front, then shrinking chunks from the back of the others' (so a worker slowed
/// by another process, or not yet awake, does not hold the layer back), each chunk claimed by one compare-exchange on
/// the share's bounds; nothing is allocated. One <see cref="Run"/> at a time (sessions are single-caller).
/// </summary>
public sealed class WorkerPool : IDisposable
{
    private const int SpinCount = 2000;
    private const int SpinMicroseconds = 200;
    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _start;
    private readonly int[] _parked;
    private readonly int[] _threadIds; // kernel thread ids, 0 until a worker has started (or not Linux)
    private readonly ulong[]? _cpus; // the process's CPUs; null: leave placement to the kernel
    private int _generation;
    private readonly ManualResetEventSlim _done = new(false, SpinCount);
    private IRowWork? _work;
    private int _minChunk;
    // Per thread, its share's unclaimed rows: first in the low 32 bits, end in the high 32; a cache line and its
    // neighbour (16 longs) apart, so claims on two shares do not contend for one line.
    private readonly long[] _shares;
    private const int ShareStride = 16;
    // The run's state: Closed once the caller has drained every chunk; below it, the workers inside the run.
    private const int Closed = 1 << 30;
    private int _state = Closed;
    private volatile bool _stopping;
    private volatile bool _failed; // a worker threw: stop handing out rows
    private Exception? _failure;

    public WorkerPool(int threads, long minParallelMultAdds = 0)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "must be at least 1");
        ArgumentOutOfRangeException.ThrowIfNegative(minParallelMultAdds);
        Threads = threads;
        MinParallelMultAdds = minParallelMultAdds;
        // ManualResetEventSlim creates its lock object the first time a Wait has to block: make that happen
        // here, so a later Run never allocates.
        _done.Wait(1);
        _threads = new Thread[threads - 1];
        _start = new ManualResetEventSlim[threads - 1];
        _parked = new int[threads - 1];
        _threadIds = new int[threads - 1];
        _shares = new long[threads * ShareStride];
        // With more threads than CPUs, keeping workers off one CPU would only crowd the others.
        if (threads <= Environment.ProcessorCount) _cpus = WorkerPlacement.ProcessCpus();
        for (int i = 0; i < _threads.Length; i++)
        {
            _start[i] = new ManualResetEventSlim(false, SpinCount);
            int index = i;
            _threads[i] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"edgemobilenet-worker-{i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>Threads that compute, including the caller.</summary>
    public int Threads { get; }

    /// <summary>The workers' kernel thread ids (0 for one not started yet, or off Linux).</summary>
    internal int[] WorkerThreadIds => [.. _threadIds];

    /// <summary>Whether worker <paramref name="index"/> is parked on its event (so the next <see cref="Run"/> wakes it).</summary>
    internal bool IsParked(int index) => Volatile.Read(ref _parked[index]) == 1;

    /// <summary>Operators smaller than this (in Mult-Adds) do not use the pool.</summary>
    public long MinParallelMultAdds { get; }

    /// <summary>Runs <paramref name="work"/> over [0, rows) on <paramref name="pool"/>'s threads, or on the caller alone without one.</summary>
    public static void Run(WorkerPool? pool, IRowWork work, int rows)
    {
        if (pool is null) work.RunRows(0, rows);
        else pool.Run(work, rows);
    }

    /// <summary>Runs <paramref name="work"/> over [0, rows) on every thread; returns when all rows are done.</summary>
    public void Run(IRowWork work, int rows)
    {
        if (rows <= 0) return;
        int threads = Math.Min(Threads, rows);
        if (threads == 1)
        {
            work.RunRows(0, rows);
            return;
        }
        // Each thread works on its own share first: the same part of every layer's output on the same thread, so the
        // next layer mostly reads rows its thread wrote, in that core's cache. One shared cursor (any thread the next
        // chunk) scattered the rows: at 2 threads V1 1.0-224 fp32's 14x14x512 depthwise layers, half their 400 KB
        // input in the other core's cache, ran slower than at 1 thread (0.080 against 0.063 ms). With shares, two
        // sessions in one process taking turns, 3 runs each at 2 threads: V1 1.0-224 fp32 1.02-1.05x, int8
        // 1.00-1.04x, V2 1.0-224 fp32 1.05-1.12x, int8 1.04-1.07x; fp32 depthwise layers up to 1.4-1.6x (V1 block 13,
        // V2 blocks 3-6), no layer slower beyond noise. Chunks take half of a share's unclaimed rows, at least
        // 1 / (8 x threads) of all (a GEMM split by pixels streams its weights once per chunk): large first, small
        // last, so the threads finish close together.
        _minChunk = Math.Max(1, rows / (threads * 8));
        for (int t = 0; t < Threads; t++)
            Volatile.Write(ref _shares[t * ShareStride], Bounds((int)((long)rows * t / Threads), (int)((long)rows * (t + 1) / Threads)));
        _work = work;
        _failed = false;
        _failure = null;
        _done.Reset();
        // Open: a worker that sees the new generation joins (counts itself in) unless the caller has closed the run.
        Volatile.Write(ref _state, 0);
        // Full fence, then read each worker's parked flag (it sets the flag with a full fence, then re-reads the
        // generation): a worker either sees this generation or is seen parked and woken.
        Interlocked.Increment(ref _generation);
        for (int i = 0; i < _threads.Length; i++)
        {
            if (Volatile.Read(ref _parked[i]) != 1) continue;
            WorkerPlacement.KeepOffCurrentCpu(Volatile.Read(ref _threadIds[i]), _cpus);
            _start[i].Set();
        }
        try
        {
            Drain(work, 0);
        }
        catch
        {
            _failed = true; // the workers stop claiming rows too
            throw;
        }
        finally
        {
            // Every chunk is handed out: close, and wait only for workers inside the run (the last one out sets _done).
            if ((Interlocked.Or(ref _state, Closed) & ~Closed) != 0) _done.Wait();
            _work = null;
        }
        if (_failure is { } failure) throw new AggregateException("a worker thread failed", failure);
    }

    /// <summary>Runs chunks of thread <paramref name="self"/>'s share from its front, then of the other shares from their back, until none is left.</summary>
    private void Drain(IRowWork work, int self)
    {
        int first, count;
        while (Claim(self, fromFront: true, out first, out count)) work.RunRows(first, count);
        for (int k = 1; k < Threads; k++)
        {
            int other = (self + k) % Threads;
            while (Claim(other, fromFront: false, out first, out count)) work.RunRows(first, count);
        }
    }

    /// <summary>Claims half of share <paramref name="share"/>'s unclaimed rows (at least <see cref="_minChunk"/>) from its front or back; false once it has none.</summary>
    private bool Claim(int share, bool fromFront, out int first, out int count)
    {
        ref long bounds = ref _shares[share * ShareStride];
        while (true)
        {
            long current = Volatile.Read(ref bounds);
            int front = (int)current, end = (int)(current >> 32), left = end - front;
            if (left <= 0 || _failed)
            {
                first = count = 0;
                return false;
            }
            count = Math.Min(left, Math.Max(_minChunk, (left + 1) / 2));
            first = fromFront ? front : end - count;
            long claimed = fromFront ? Bounds(front + count, end) : Bounds(front, end - count);
            if (Interlocked.CompareExchange(ref bounds, claimed, current) == current) return true;
        }
    }

    private static long Bounds(int first, int end) => (uint)first | (long)end << 32;

    private void WorkerLoop(int index)
    {
        var start = _start[index];
        Volatile.Write(ref _threadIds[index], WorkerPlacement.CurrentThreadId());
        int seen = 0;
        long spinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;
        while (true)
        {
            int generation = Volatile.Read(ref _generation);
            if (generation == seen)
            {
                long deadline = Stopwatch.GetTimestamp() + spinTicks;
                var spinner = new SpinWait();
                while ((generation = Volatile.Read(ref _generation)) == seen && Stopwatch.GetTimestamp() < deadline)
                    spinner.SpinOnce(sleep1Threshold: -1); // never sleeps or yields to Sleep(1)
            }
            while (generation == seen)
            {
                Interlocked.Exchange(ref _parked[index], 1);
                generation = Volatile.Read(ref _generation);
                if (generation == seen)
                {
                    start.Wait();
                    start.Reset(); // a stale Set (the worker had seen the generation already) only costs a loop
                    generation = Volatile.Read(ref _generation);
                }
                Interlocked.Exchange(ref _parked[index], 0);
            }
            seen = generation;
            if (_stopping) return;
            if (!TryJoin()) continue; // the caller finished without this worker
            try
            {
                if (_work is { } work) Drain(work, index + 1);
            }
            catch (Exception e)
            {
                _failure = e;
                _failed = true;
            }
            if (Interlocked.Decrement(ref _state) == Closed) _done.Set(); // closed, and the last one out
        }
    }

    /// <summary>
    /// Counts this worker into the open run; false once it is closed. A worker that read the generation of a run the
    /// caller has since finished may join the next one (opened with the fields already set): it then helps with that.
    /// </summary>
    internal bool TryJoin()
    {
        while (true)
        {
            int state = Volatile.Read(ref _state);
            if ((state & Closed) != 0) return false;
            if (Interlocked.CompareExchange(ref _state, state + 1, state) == state) return true;
        }
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        Interlocked.Increment(ref _generation);
        foreach (var s in _start) s.Set();
        foreach (var t in _threads) t.Join();
        foreach (var s in _start) s.Dispose();
        _done.Dispose();
    }
}
