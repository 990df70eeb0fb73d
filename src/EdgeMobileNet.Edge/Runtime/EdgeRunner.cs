using System.Diagnostics;
using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Edge.Frames;
using EdgeMobileNet.Edge.Gpio;
using EdgeMobileNet.Edge.Rules;

namespace EdgeMobileNet.Edge.Runtime;

public sealed class RunOptions
{
    public long MaxFrames { get; init; } = long.MaxValue;
    public TimeSpan Duration { get; init; } = Timeout.InfiniteTimeSpan;
    public TimeSpan ReportInterval { get; init; } = TimeSpan.FromSeconds(10);
    public int SourceTimeoutMs { get; init; } = 2000;
    public int ReopenMaxBackoffMs { get; init; } = 10_000;
    /// <summary>Frames processed before allocation counting starts (first-frame table builds, JIT).</summary>
    public int AllocationWarmupFrames { get; init; } = 20;
}

/// <summary>Stage latencies and counters for one reporting interval.</summary>
public sealed record RunReport(
    double Seconds, long Frames, double Fps, long Dropped, long Corrupt, long Timeouts, long Reconnects,
    (double P50, double P99) Capture, (double P50, double P99) Preprocess, (double P50, double P99) Inference,
    (double P50, double P99) Rules, (double P50, double P99) Total);

public sealed record RunResult(
    string EndReason, long Frames, long Dropped, long Corrupt, long Timeouts, long Reconnects, double Seconds,
    long SteadyStateFrames, long InferenceThreadAllocatedBytes, long CaptureThreadAllocatedBytes, RunReport? Overall)
{
    // Allocation figures are the fewest bytes any window of EdgeRunner.AllocationWindowFrames steady frames
    // allocated on that thread (see AllocationMeter for why not one total).
}

/// <summary>
/// The steady loop: a capture thread reads frames into a triple buffer (live sources: the newest frame
/// wins and overwritten frames are counted as dropped; file sources: lockstep, nothing dropped), while
/// the calling thread preprocesses, infers, updates the rules and drives the GPIO lines. Outputs go to
/// their safe state on every exit path (end, cancel, fault) and while the camera is lost, which the
/// capture thread handles by reopening with exponential backoff. Nothing is allocated per frame.
/// </summary>
public sealed class EdgeRunner
{
    /// <summary>Frames per allocation-measuring window (see <see cref="RunResult"/>).</summary>
    public const int AllocationWindowFrames = 10;

    private readonly Func<IFrameSource> _reopen;
    private readonly FrameClassifier _classifier;
    private readonly RuleStateMachine[] _rules;
    private readonly GpioOutputs _outputs;
    private readonly RunOptions _options;
    private readonly Action<RunReport>? _report;
    private readonly Action<string>? _event;
    private IFrameSource _source;

    private readonly object _gate = new();
    private FrameBuffer _ready = new();
    private bool _fresh, _ended, _lost, _stopping;
    private long _lostEvents, _lostEventsSeen;
    private Exception? _captureFault;
    private long _dropped, _corrupt, _timeouts, _reconnects;
    private AllocationWindowTracker _captureAllocation;
    private readonly LatencyRecorder _capture = new(), _preprocess = new(), _inference = new(), _ruleStage = new(), _total = new();
    private readonly LatencyRecorder _allCapture = new(1 << 16), _allPre = new(1 << 16), _allInf = new(1 << 16), _allRules = new(1 << 16), _allTotal = new(1 << 16);

    public EdgeRunner(IFrameSource source, Func<IFrameSource> reopen, FrameClassifier classifier, IReadOnlyList<RuleDefinition> rules,
        GpioOutputs outputs, RunOptions options, Action<RunReport>? report = null, Action<string>? onEvent = null)
    {
        _source = source;
        _reopen = reopen;
        _classifier = classifier;
        _rules = rules.Select(r => new RuleStateMachine(r)).ToArray();
        _outputs = outputs;
        _options = options;
        _report = report;
        _event = onEvent;
    }

    public IReadOnlyList<RuleStateMachine> Rules => _rules;
    /// <summary>Clock of the last frame or tick, in ms (frame time for files, wall time for cameras).</summary>
    public double NowMs { get; private set; }

    public RunResult Run(CancellationToken cancel)
    {
        var wall = Stopwatch.StartNew();
        bool isFile = _source.IsFile;
        var captureThread = new Thread(() => CaptureLoop(isFile)) { IsBackground = true, Name = "edgemobilenet-capture" };
        var front = new FrameBuffer();
        long frames = 0;
        var allocation = new AllocationWindowTracker(_options.AllocationWarmupFrames, AllocationWindowFrames);
        string reason = "end of input";
        double lastReport = 0;
        long framesAtReport = 0;
        using var cancelRegistration = cancel.Register(() => { lock (_gate) Monitor.PulseAll(_gate); });
        try
        {
            captureThread.Start();
            while (true)
            {
                if (cancel.IsCancellationRequested) { reason = "stopped by signal"; break; }
                if (frames >= _options.MaxFrames) { reason = $"reached --max-frames {_options.MaxFrames}"; break; }
                if (_options.Duration != Timeout.InfiniteTimeSpan && wall.Elapsed >= _options.Duration) { reason = "reached --duration"; break; }

                var status = Take(ref front, isFile ? 1000 : 50, cancel, out bool lost);
                if (!isFile) NowMs = wall.Elapsed.TotalMilliseconds;
                if (status == TakeStatus.Fault) throw new InvalidOperationException($"capture failed: {_captureFault!.Message}", _captureFault);
                if (status == TakeStatus.Ended) break;
                if (lost)
                {
                    SafeAll();
                    if (status != TakeStatus.Frame) continue;
                }
                if (status != TakeStatus.Frame)
                {
                    if (!isFile) TickRules();
                    MaybeReport(wall, ref lastReport, ref framesAtReport, frames);
                    continue;
                }

                long t0 = Stopwatch.GetTimestamp();
                if (isFile) NowMs = front.TimestampMs;
                _classifier.Preprocess(front);
                long t1 = Stopwatch.GetTimestamp();
                var scores = _classifier.Infer();
                long t2 = Stopwatch.GetTimestamp();
                for (int i = 0; i < _rules.Length; i++) _outputs.Set(i, _rules[i].Update(scores, NowMs));
                long t3 = Stopwatch.GetTimestamp();
                Record(_preprocess, _allPre, t0, t1);
                Record(_inference, _allInf, t1, t2);
                Record(_ruleStage, _allRules, t2, t3);
                Record(_total, _allTotal, t0, t3);
                frames++;
                allocation.Tick();
                MaybeReport(wall, ref lastReport, ref framesAtReport, frames);
            }
        }
        catch (OperationCanceledException)
        {
            reason = "stopped by signal";
        }
        finally
        {
            // Safe state first, whatever happened; then stop the capture thread.
            SafeAll();
            lock (_gate)
            {
                _stopping = true;
                Monitor.PulseAll(_gate);
            }
            captureThread.Join(Math.Max(3 * _options.SourceTimeoutMs, 5000));
        }
        var overall = new RunReport(wall.Elapsed.TotalSeconds, frames, frames / Math.Max(1e-9, wall.Elapsed.TotalSeconds),
            _dropped, _corrupt, _timeouts, _reconnects, P(_allCapture), P(_allPre), P(_allInf), P(_allRules), P(_allTotal));
        return new RunResult(reason, frames, _dropped, _corrupt, _timeouts, _reconnects, wall.Elapsed.TotalSeconds, allocation.MeasuredTicks,
            Math.Max(0, allocation.FewestBytes), Math.Max(0, _captureAllocation.FewestBytes), overall);
    }

    private static (double, double) P(LatencyRecorder r)
    {
        var (p50, p99, _) = r.TakePercentiles();
        return (p50, p99);
    }

    private static void Record(LatencyRecorder interval, LatencyRecorder all, long from, long to)
    {
        double ms = Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
        interval.Add(ms);
        all.Add(ms);
    }

    private void TickRules()
    {
        for (int i = 0; i < _rules.Length; i++) _outputs.Set(i, _rules[i].Tick(NowMs));
    }

    private void SafeAll()
    {
        foreach (var rule in _rules) rule.EnterSafeState();
        if (_outputs.AllSafe() is { } e) _event?.Invoke($"could not set every output safe: {e.Message}");
    }

    private void MaybeReport(Stopwatch wall, ref double lastReport, ref long framesAtReport, long frames)
    {
        double now = wall.Elapsed.TotalSeconds;
        if (_report is null || now - lastReport < _options.ReportInterval.TotalSeconds) return;
        double span = now - lastReport;
        var report = new RunReport(span, frames - framesAtReport, (frames - framesAtReport) / span,
            Interlocked.Read(ref _dropped), Interlocked.Read(ref _corrupt), Interlocked.Read(ref _timeouts), Interlocked.Read(ref _reconnects),
            P(_capture), P(_preprocess), P(_inference), P(_ruleStage), P(_total));
        lastReport = now;
        framesAtReport = frames;
        _report(report);
    }

    private enum TakeStatus { Frame, None, Ended, Fault }

    private TakeStatus Take(ref FrameBuffer front, int timeoutMs, CancellationToken cancel, out bool lost)
    {
        lock (_gate)
        {
            if (!_fresh && !_ended && _captureFault is null && !cancel.IsCancellationRequested)
                Monitor.Wait(_gate, timeoutMs);
            // A loss is latched: even if the camera came back before this thread looked, the outputs
            // still go through their safe state once (and stay safe while it is lost).
            lost = _lost || _lostEvents != _lostEventsSeen;
            _lostEventsSeen = _lostEvents;
            if (_fresh)
            {
                (front, _ready) = (_ready, front);
                _fresh = false;
                Monitor.PulseAll(_gate);
                return TakeStatus.Frame;
            }
            if (_captureFault is not null) return TakeStatus.Fault;
            if (_ended) return TakeStatus.Ended;
            return TakeStatus.None;
        }
    }

    private void CaptureLoop(bool lockstep)
    {
        var back = new FrameBuffer();
        _captureAllocation = new AllocationWindowTracker(_options.AllocationWarmupFrames, AllocationWindowFrames);
        int backoff = 100;
        try
        {
            while (true)
            {
                lock (_gate)
                    if (_stopping) return;
                FrameReadStatus status;
                long t0 = Stopwatch.GetTimestamp();
                try
                {
                    status = _source.Read(back, _options.SourceTimeoutMs);
                }
                catch (FrameSourceLostException e)
                {
                    Lost(e.Message);
                    if (!Reopen(ref backoff)) return;
                    continue;
                }
                switch (status)
                {
                    case FrameReadStatus.EndOfStream:
                        lock (_gate)
                        {
                            _ended = true;
                            Monitor.PulseAll(_gate);
                        }
                        return;
                    case FrameReadStatus.Corrupt:
                        Interlocked.Increment(ref _corrupt);
                        continue;
                    case FrameReadStatus.Timeout:
                        Interlocked.Increment(ref _timeouts);
                        if (!lockstep)
                        {
                            Lost($"no frame for {_options.SourceTimeoutMs} ms");
                            if (!Reopen(ref backoff)) return;
                        }
                        continue;
                }
                Record(_capture, _allCapture, t0, Stopwatch.GetTimestamp());
                backoff = 100;
                _captureAllocation.Tick();
                lock (_gate)
                {
                    while (lockstep && _fresh && !_stopping) Monitor.Wait(_gate);
                    if (_stopping) return;
                    if (_fresh) _dropped++;
                    (back, _ready) = (_ready, back);
                    _fresh = true;
                    _lost = false;
                    Monitor.PulseAll(_gate);
                }
            }
        }
        catch (Exception e)
        {
            lock (_gate)
            {
                _captureFault = e;
                Monitor.PulseAll(_gate);
            }
        }
    }

    private void Lost(string why)
    {
        lock (_gate)
        {
            if (!_lost) _event?.Invoke($"camera lost ({why}): outputs to safe state, reopening");
            _lost = true;
            _lostEvents++;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Closes the source and reopens it with exponential backoff until it works or the run stops.</summary>
    private bool Reopen(ref int backoff)
    {
        try { _source.Dispose(); } catch (Exception) { /* already broken */ }
        while (true)
        {
            lock (_gate)
            {
                if (_stopping) return false;
                Monitor.Wait(_gate, backoff);
                if (_stopping) return false;
            }
            backoff = Math.Min(backoff * 2, _options.ReopenMaxBackoffMs);
            try
            {
                _source = _reopen();
                Interlocked.Increment(ref _reconnects);
                _event?.Invoke($"camera reopened: {_source.Description}");
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _event?.Invoke($"camera reopen failed ({e.Message}); retrying in {backoff} ms");
            }
        }
    }

    /// <summary>Disposes the current source (the one in use after any reopen).</summary>
    public void DisposeSource() => _source.Dispose();
}
