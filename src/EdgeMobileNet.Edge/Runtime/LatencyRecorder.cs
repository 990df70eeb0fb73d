namespace EdgeMobileNet.Edge.Runtime;

/// <summary>A fixed ring of the latest latencies (ms) with percentiles; thread-safe, allocation-free after construction.</summary>
public sealed class LatencyRecorder(int capacity = 1024)
{
    private readonly double[] _values = new double[capacity];
    private readonly double[] _scratch = new double[capacity];
    private readonly Lock _lock = new();
    private int _count, _next;

    public void Add(double ms)
    {
        lock (_lock)
        {
            _values[_next] = ms;
            _next = (_next + 1) % _values.Length;
            if (_count < _values.Length) _count++;
        }
    }

    /// <summary>p50 and p99 (nearest rank) of the recorded window, then clears it.</summary>
    public (double P50, double P99, int Count) TakePercentiles()
    {
        lock (_lock)
        {
            int n = _count;
            if (n == 0) return (double.NaN, double.NaN, 0);
            Array.Copy(_values, _scratch, n);
            Array.Sort(_scratch, 0, n);
            _count = _next = 0;
            return (_scratch[Rank(n, 0.50)], _scratch[Rank(n, 0.99)], n);
        }
    }

    private static int Rank(int n, double p) => Math.Clamp((int)Math.Ceiling(p * n) - 1, 0, n - 1);
}
