using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Edge.Rules;
using Xunit;

namespace EdgeMobileNet.Tests.Edge;

public class RuleStateMachineTests
{
    private static RuleDefinition Rule(float on = 0.7f, float off = 0.5f, int onFrames = 1, int offFrames = 1, int smoothing = 1,
        RuleMode mode = RuleMode.WhileSeen, int pulseMs = 0, int minOnMs = 0, bool safeOn = false) =>
        new("r", [0], on, off, onFrames, offFrames, smoothing, mode, pulseMs, minOnMs, "auto", 17, false, safeOn);

    /// <summary>Feeds scores at 100 ms per frame; returns the output after each frame as 0/1 characters.</summary>
    private static string Feed(RuleStateMachine m, params float[] scores)
    {
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < scores.Length; i++) text.Append(m.UpdateScore(scores[i], i * 100) ? '1' : '0');
        return text.ToString();
    }

    [Fact]
    public void HysteresisSequenceIsExact()
    {
        var m = new RuleStateMachine(Rule(onFrames: 3, offFrames: 2));
        // frame:                       0     1     2     3     4     5     6     7     8     9     10    11    12
        string outputs = Feed(m, 0.8f, 0.2f, 0.8f, 0.8f, 0.8f, 0.6f, 0.6f, 0.4f, 0.6f, 0.4f, 0.4f, 0.6f, 0.8f);
        // on at frame 4 (3rd consecutive >= 0.7); 0.6 is in the dead band; one 0.4 then 0.6 resets the
        // off count; two consecutive 0.4 turn it off at frame 10; 0.6 is below on: stays off.
        Assert.Equal("0000111111000", outputs);
    }

    [Fact]
    public void ThresholdEqualToOnCountsAsAbove()
    {
        var m = new RuleStateMachine(Rule(on: 0.5f, off: 0.5f));
        Assert.Equal("10", Feed(m, 0.5f, 0.49f));
    }

    [Fact]
    public void MovingAverageValues()
    {
        var m = new RuleStateMachine(Rule(on: 0.55f, off: 0.55f, smoothing: 3));
        Assert.Equal("100011", Feed(m, 0.9f, 0.1f, 0f, 0.9f, 0.9f, 0.9f));
        Assert.Equal(0.9f, m.Score, 5);
    }

    [Fact]
    public void MinimumOnTimeHoldsTheOutput()
    {
        var m = new RuleStateMachine(Rule(minOnMs: 350));
        // on at t=0, detection gone at t=100, but held until t >= 350 (frame at 400 turns it off)
        Assert.Equal("11110", Feed(m, 0.9f, 0f, 0f, 0f, 0f));
        var m2 = new RuleStateMachine(Rule(minOnMs: 350));
        m2.UpdateScore(0.9f, 0);
        m2.UpdateScore(0f, 100);
        Assert.True(m2.Tick(349));
        Assert.False(m2.Tick(350));
    }

    [Fact]
    public void PulseFiresOncePerDetectionAndEndsOnTime()
    {
        var m = new RuleStateMachine(Rule(mode: RuleMode.Pulse, pulseMs: 250, onFrames: 2));
        // active from frame 1 (t=100): pulse until t=350 -> frames 1,2,3 on; still detected but no new pulse;
        // detection ends at frame 6; re-detected at frame 8 (2 frames: 7, 8) -> new pulse.
        Assert.Equal("0111000011100", Feed(m, 0.9f, 0.9f, 0.9f, 0.9f, 0.9f, 0.9f, 0.1f, 0.9f, 0.9f, 0.9f, 0.9f, 0.9f, 0.9f));
    }

    [Fact]
    public void PulseEndsBetweenFramesThroughTick()
    {
        var m = new RuleStateMachine(Rule(mode: RuleMode.Pulse, pulseMs: 50));
        Assert.True(m.UpdateScore(0.9f, 1000));
        Assert.True(m.Tick(1049.9));
        Assert.False(m.Tick(1050));
    }

    [Fact]
    public void SafeStateResetsHistoryAndForcesSafeOutput()
    {
        var m = new RuleStateMachine(Rule(onFrames: 2, safeOn: true));
        Assert.True(m.Output); // starts in its safe state
        Assert.True(m.InSafeState);
        Assert.Equal("01", Feed(m, 0.9f, 0.9f));
        m.EnterSafeState();
        Assert.True(m.Output);
        Assert.False(m.Active);
        Assert.True(m.Tick(10_000)); // no frame: stays safe
        // recovery needs K fresh frames again
        Assert.False(m.UpdateScore(0.9f, 20_000));
        Assert.True(m.UpdateScore(0.9f, 20_100));
        var off = new RuleStateMachine(Rule());
        off.UpdateScore(0.9f, 0);
        Assert.True(off.Output);
        off.EnterSafeState();
        Assert.False(off.Output);
    }

    [Fact]
    public void ScoreIsTheBestOfTheRuleClasses()
    {
        var m = new RuleStateMachine(Rule() with { Classes = [1, 3] });
        Assert.Equal(0.6f, m.ScoreOf([0.9f, 0.2f, 0.95f, 0.6f]));
    }

    [Fact]
    public void UpdatesAllocateNothing()
    {
        var m = new RuleStateMachine(Rule(smoothing: 4, minOnMs: 10));
        float[] scores = [0.1f, 0.9f];
        long now = 0;
        Assert.Equal(0, AllocationMeter.SteadyStateBytes(() => m.Update(scores, now++), callsPerWindow: 250));
    }
}
