using EdgeMobileNet.Graph.Planning;
using Xunit;

namespace EdgeMobileNet.Tests.Graph;

public class MemoryPlannerTests
{
    [Fact]
    public void ChainReusesMemoryOfDeadBuffers()
    {
        // A chain a -> b -> c -> d: at most two neighbours are live at once, so two slots suffice.
        var planner = new MemoryPlanner();
        int a = planner.AddBuffer(1000, 0, 0);
        int b = planner.AddBuffer(1000, 0, 1);
        int c = planner.AddBuffer(1000, 1, 2);
        int d = planner.AddBuffer(1000, 2, 2);
        Assert.Equal(2 * 1024, planner.ArenaSize);
        Assert.NotEqual(planner.OffsetOf(a), planner.OffsetOf(b));
        Assert.NotEqual(planner.OffsetOf(b), planner.OffsetOf(c));
        Assert.NotEqual(planner.OffsetOf(c), planner.OffsetOf(d));
        Assert.Equal(4 * 1024, planner.UnplannedSize);
    }

    [Fact]
    public void RandomPlansNeverOverlapLiveBuffers()
    {
        var random = new Random(99);
        for (int round = 0; round < 500; round++)
        {
            var planner = new MemoryPlanner();
            int n = random.Next(1, 30);
            var buffers = new (long Size, int First, int Last)[n];
            for (int i = 0; i < n; i++)
            {
                int first = random.Next(20);
                buffers[i] = (random.Next(1, 3000), first, first + random.Next(5));
                planner.AddBuffer(buffers[i].Size, buffers[i].First, buffers[i].Last);
            }
            long peakLive = 0;
            for (int step = 0; step < 30; step++)
                peakLive = Math.Max(peakLive, buffers.Where(b => b.First <= step && step <= b.Last).Sum(b => (b.Size + 63) / 64 * 64));
            Assert.True(planner.ArenaSize >= peakLive, "arena smaller than what is live at once");
            Assert.True(planner.ArenaSize <= planner.UnplannedSize);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(0, planner.OffsetOf(i) % MemoryPlanner.Alignment);
                for (int j = i + 1; j < n; j++)
                {
                    bool live = buffers[i].First <= buffers[j].Last && buffers[j].First <= buffers[i].Last;
                    bool overlap = planner.OffsetOf(i) < planner.OffsetOf(j) + buffers[j].Size &&
                                   planner.OffsetOf(j) < planner.OffsetOf(i) + buffers[i].Size;
                    Assert.False(live && overlap, $"round {round}: live buffers {i} and {j} overlap");
                }
            }
        }
    }

    [Fact]
    public void RejectsEmptyLifetime() => Assert.Throws<ArgumentException>(() => new MemoryPlanner().AddBuffer(10, 3, 2));
}
