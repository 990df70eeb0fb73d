namespace EdgeMobileNet.Graph.Planning;

/// <summary>
/// Places buffers with known lifetimes in one arena so that buffers alive at the same time never
/// overlap. Greedy: buffers are placed largest first, each at the lowest offset where it does not
/// collide with an already placed buffer whose lifetime intersects its own (the strategy of
/// tflite-micro's greedy planner). Lifetimes are inclusive operator indices.
/// </summary>
public sealed class MemoryPlanner
{
    private readonly List<Request> _requests = [];
    private long[]? _offsets;
    private long _arenaSize;

    /// <summary>Alignment of every buffer offset, in bytes (a cache line, and enough for any SIMD load).</summary>
    public const int Alignment = 64;

    /// <summary>Adds a buffer of <paramref name="size"/> bytes alive from <paramref name="firstUse"/> to <paramref name="lastUse"/>; returns its id.</summary>
    public int AddBuffer(long size, int firstUse, int lastUse)
    {
        if (size < 0) throw new ArgumentOutOfRangeException(nameof(size));
        if (lastUse < firstUse) throw new ArgumentException($"buffer lifetime {firstUse}..{lastUse} is empty");
        _requests.Add(new Request(size, firstUse, lastUse));
        _offsets = null;
        return _requests.Count - 1;
    }

    public int BufferCount => _requests.Count;

    /// <summary>Total arena bytes needed once every buffer is placed.</summary>
    public long ArenaSize
    {
        get
        {
            Plan();
            return _arenaSize;
        }
    }

    public long OffsetOf(int bufferId)
    {
        Plan();
        return _offsets![bufferId];
    }

    /// <summary>Sum of all buffer sizes: what the arena would need without reuse.</summary>
    public long UnplannedSize => _requests.Sum(r => AlignUp(r.Size));

    private void Plan()
    {
        if (_offsets is not null) return;
        var offsets = new long[_requests.Count];
        var order = Enumerable.Range(0, _requests.Count)
            .OrderByDescending(i => _requests[i].Size)
            .ThenBy(i => _requests[i].FirstUse)
            .ThenBy(i => i)
            .ToArray();
        var placed = new List<int>(order.Length);
        long arena = 0;
        foreach (int id in order)
        {
            Request r = _requests[id];
            // Live neighbours sorted by offset; slide past each one that collides.
            var live = placed.Where(p => Overlaps(_requests[p], r)).OrderBy(p => offsets[p]).ToList();
            long candidate = 0;
            foreach (int p in live)
            {
                long start = offsets[p];
                long end = start + AlignUp(_requests[p].Size);
                if (candidate + AlignUp(r.Size) <= start) break;
                candidate = Math.Max(candidate, end);
            }
            offsets[id] = candidate;
            placed.Add(id);
            arena = Math.Max(arena, candidate + AlignUp(r.Size));
        }
        _offsets = offsets;
        _arenaSize = arena;
    }

    private static bool Overlaps(Request a, Request b) => a.FirstUse <= b.LastUse && b.FirstUse <= a.LastUse;

    private static long AlignUp(long size) => (size + Alignment - 1) / Alignment * Alignment;

    private readonly record struct Request(long Size, int FirstUse, int LastUse);
}
