namespace EdgeMobileNet.Graph.Runtime;

/// <summary>Measures what a repeated action allocates on the calling thread once it has warmed up.</summary>
public static class AllocationMeter
{
    /// <summary>
    /// Calls <paramref name="action"/> <paramref name="callsPerWindow"/> times per window and returns the fewest
    /// bytes any window allocated (stopping at the first window with none).
    /// </summary>
    /// <remarks>
    /// GC.GetAllocatedBytesForCurrentThread can over-report by a few KB while other threads allocate and collect
    /// (the runtime's own test of it fails the same way under parallel tests). An action that allocates on every
    /// call shows bytes in every window, so the least of several windows is still a check that can fail.
    /// </remarks>
    public static long SteadyStateBytes(Action action, int callsPerWindow = 5, int windows = 4)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentOutOfRangeException.ThrowIfLessThan(callsPerWindow, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(windows, 1);
        action(); // first call outside any window: lazy initialisation is not steady state
        long fewest = long.MaxValue;
        for (int w = 0; w < windows && fewest != 0; w++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < callsPerWindow; i++) action();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return fewest;
    }
}

/// <summary>
/// The same measure for a loop that cannot be driven from outside (a frame loop): after <c>warmup</c> ticks it
/// counts the bytes each window of <c>window</c> ticks allocated on the ticking thread and keeps the fewest.
/// </summary>
public struct AllocationWindowTracker(int warmup, int window)
{
    private long _ticks, _windowStart = -1;

    /// <summary>Fewest bytes any complete window allocated; -1 until one has completed.</summary>
    public long FewestBytes { get; private set; } = -1;

    /// <summary>Ticks counted inside complete windows.</summary>
    public long MeasuredTicks { get; private set; }

    public void Tick()
    {
        _ticks++;
        if (_ticks < warmup || (_ticks - warmup) % window != 0) return;
        long now = GC.GetAllocatedBytesForCurrentThread();
        if (_windowStart >= 0)
        {
            long bytes = now - _windowStart;
            FewestBytes = FewestBytes < 0 ? bytes : Math.Min(FewestBytes, bytes);
            MeasuredTicks += window;
        }
        _windowStart = now;
    }
}
