namespace EdgeMobileNet.Edge.Rules;

public enum RuleMode
{
    /// <summary>The output follows the (debounced) detection, held for at least MinOnMs.</summary>
    WhileSeen,
    /// <summary>Each new detection (inactive -> active) gives one pulse of PulseMs; re-armed when the detection ends.</summary>
    Pulse,
}

/// <summary>A validated rule: which classes, thresholds, debouncing, output behaviour and GPIO line.</summary>
public sealed record RuleDefinition(
    string Name, int[] Classes, float OnThreshold, float OffThreshold, int OnFrames, int OffFrames, int Smoothing,
    RuleMode Mode, int PulseMs, int MinOnMs, string Chip, int Line, bool ActiveLow, bool SafeOn);

/// <summary>
/// One rule's state: smoothing (moving average of the last N scores), hysteresis (active after K
/// consecutive frames at or above the on threshold, inactive after M consecutive frames below the off
/// threshold), and the output (while-seen with a minimum on time, or fixed pulses). Time is passed in
/// (milliseconds on the frame clock) so tests are exact. The output is a logical value; active-low is
/// applied by the GPIO layer. Allocates only in the constructor.
/// </summary>
public sealed class RuleStateMachine
{
    private readonly float[] _window;
    private int _windowCount, _windowNext;
    private double _windowSum;
    private int _aboveRun, _belowRun;
    private double _onSince = double.NegativeInfinity;
    private double _pulseEnd = double.NegativeInfinity;

    public RuleStateMachine(RuleDefinition rule)
    {
        Rule = rule;
        _window = new float[rule.Smoothing];
        Output = rule.SafeOn;
        InSafeState = true;
    }

    public RuleDefinition Rule { get; }
    /// <summary>Debounced detection.</summary>
    public bool Active { get; private set; }
    /// <summary>Logical output (true = on).</summary>
    public bool Output { get; private set; }
    /// <summary>Last smoothed score.</summary>
    public float Score { get; private set; }
    /// <summary>True until the first frame after start or after <see cref="EnterSafeState"/>.</summary>
    public bool InSafeState { get; private set; }

    /// <summary>The rule's score for a frame: the best of its classes.</summary>
    public float ScoreOf(ReadOnlySpan<float> scores)
    {
        float best = float.NegativeInfinity;
        foreach (int c in Rule.Classes)
            if (scores[c] > best) best = scores[c];
        return best;
    }

    /// <summary>Feeds one frame's class scores at time <paramref name="nowMs"/>; returns the output.</summary>
    public bool Update(ReadOnlySpan<float> scores, double nowMs) => UpdateScore(ScoreOf(scores), nowMs);

    public bool UpdateScore(float score, double nowMs)
    {
        InSafeState = false;
        if (_windowCount == _window.Length) _windowSum -= _window[_windowNext];
        else _windowCount++;
        _window[_windowNext] = score;
        _windowSum += score;
        _windowNext = (_windowNext + 1) % _window.Length;
        float smoothed = (float)(_windowSum / _windowCount);
        Score = smoothed;

        bool wasActive = Active;
        if (!Active)
        {
            _aboveRun = smoothed >= Rule.OnThreshold ? _aboveRun + 1 : 0;
            if (_aboveRun >= Rule.OnFrames)
            {
                Active = true;
                _belowRun = 0;
            }
        }
        else
        {
            _belowRun = smoothed < Rule.OffThreshold ? _belowRun + 1 : 0;
            if (_belowRun >= Rule.OffFrames)
            {
                Active = false;
                _aboveRun = 0;
            }
        }
        if (Rule.Mode == RuleMode.Pulse && Active && !wasActive)
            _pulseEnd = nowMs + Math.Max(Rule.PulseMs, Rule.MinOnMs);
        return Tick(nowMs);
    }

    /// <summary>Advances time without a frame (pulse ends, minimum on time); returns the output.</summary>
    public bool Tick(double nowMs)
    {
        if (InSafeState) return Output;
        bool output;
        if (Rule.Mode == RuleMode.Pulse) output = nowMs < _pulseEnd;
        else output = Active || (Output && nowMs - _onSince < Rule.MinOnMs);
        if (output && !Output) _onSince = nowMs;
        Output = output;
        return output;
    }

    /// <summary>
    /// Forces the safe output and forgets the detection history (so recovery starts from scratch:
    /// K fresh frames are needed again). Used on exit, faults and while the camera is lost.
    /// </summary>
    public void EnterSafeState()
    {
        Output = Rule.SafeOn;
        InSafeState = true;
        Active = false;
        _aboveRun = _belowRun = 0;
        _windowCount = _windowNext = 0;
        _windowSum = 0;
        _pulseEnd = double.NegativeInfinity;
        _onSince = double.NegativeInfinity;
    }
}
