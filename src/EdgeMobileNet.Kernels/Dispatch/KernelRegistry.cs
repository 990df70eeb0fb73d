namespace EdgeMobileNet.Kernels.Dispatch;

/// <summary>
/// The one place that decides which <see cref="KernelSet"/> runs. "auto" takes the first set in
/// <see cref="All"/> whose ISA this CPU supports; a name forces that set (for tests and comparisons).
/// The environment variable EDGEMOBILENET_ISA overrides "auto".
/// </summary>
public static class KernelRegistry
{
    public const string EnvironmentVariable = "EDGEMOBILENET_ISA";

    /// <summary>Every kernel set, best first, with whether this machine can run it.</summary>
    public static IReadOnlyList<(KernelSet Set, bool Supported)> All { get; } =
    [
        (Simd.SimdKernelSets.Avx512VnniSet, Simd.SimdKernelSets.Avx512VnniSupported),
        (Simd.SimdKernelSets.Avx512Set, Simd.SimdKernelSets.Avx512Supported),
        (Simd.SimdKernelSets.AvxVnniSet, Simd.SimdKernelSets.AvxVnniSupported),
        (Simd.SimdKernelSets.Avx2Set, Simd.SimdKernelSets.Avx2Supported),
        (Simd.SimdKernelSets.DpSet, Simd.SimdKernelSets.DpSupported),
        (Simd.SimdKernelSets.AdvSimdSet, Simd.SimdKernelSets.AdvSimdSupported),
        (Simd.SimdKernelSets.Vector128Set, true),
        (KernelSet.Reference, true),
    ];

    public static IEnumerable<KernelSet> Supported => All.Where(e => e.Supported).Select(e => e.Set);

    /// <summary>Picks a kernel set by name ("auto", null or empty = best supported).</summary>
    /// <exception cref="ArgumentException">The name is unknown or this CPU cannot run that set.</exception>
    public static KernelSet Select(string? name)
    {
        if (string.IsNullOrEmpty(name) || name == "auto")
            name = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrEmpty(name) || name == "auto")
            return Supported.First();
        foreach (var (set, supported) in All)
        {
            if (!string.Equals(set.Name, name, StringComparison.OrdinalIgnoreCase)) continue;
            if (!supported) throw new ArgumentException($"kernel set '{set.Name}' is not supported by this CPU");
            return set;
        }
        throw new ArgumentException($"unknown kernel set '{name}' (known: {string.Join(", ", All.Select(e => e.Set.Name))})");
    }
}
