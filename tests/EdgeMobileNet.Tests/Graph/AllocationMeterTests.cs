using EdgeMobileNet.Graph.Runtime;
using Xunit;

namespace EdgeMobileNet.Tests.Graph;

public class AllocationMeterTests
{
    private static object? _sink;

    [Fact]
    public void AnActionThatAllocatesEveryCallIsSeenInEveryWindow()
    {
        long bytes = AllocationMeter.SteadyStateBytes(() => _sink = new byte[1000], callsPerWindow: 5);
        Assert.True(bytes >= 5 * 1000, $"measured {bytes} bytes");
    }

    [Fact]
    public void AnActionThatAllocatesOnlyOnItsFirstCallMeasuresZero()
    {
        bool first = true;
        Assert.Equal(0, AllocationMeter.SteadyStateBytes(() => { if (first) { _sink = new byte[1000]; first = false; } }));
    }

    [Fact]
    public void WindowTrackerSeesPerTickAllocationAndIgnoresWarmup()
    {
        var quiet = new AllocationWindowTracker(warmup: 3, window: 4);
        var noisy = new AllocationWindowTracker(warmup: 3, window: 4);
        for (int i = 0; i < 20; i++)
        {
            if (i < 2) _sink = new byte[5000]; // warm-up only
            quiet.Tick();
        }
        for (int i = 0; i < 20; i++) { _sink = new byte[100]; noisy.Tick(); }
        Assert.Equal(0, quiet.FewestBytes);
        Assert.Equal(16, quiet.MeasuredTicks);
        Assert.True(noisy.FewestBytes >= 4 * 100, $"measured {noisy.FewestBytes} bytes");
    }
}
