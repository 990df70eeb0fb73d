namespace EdgeMobileNet.Graph.Runtime;

public sealed class SessionOptions
{
    /// <summary>Kernel set name for <see cref="EdgeMobileNet.Kernels.Dispatch.KernelRegistry.Select"/>; null = auto.</summary>
    public string? Isa { get; init; }

    /// <summary>
    /// Threads that compute an inference (including the caller), 1 = the calling thread only. Layers are split
    /// by output rows; the reference kernel set always runs on one thread.
    /// </summary>
    public int Threads { get; init; } = 1;

    /// <summary>
    /// Layers with fewer Mult-Adds than this run on the calling thread alone: waking the workers costs tens of
    /// microseconds, as much as such a layer takes (V1 0.25-128 ran slower on 2 threads than on 1 without it).
    /// </summary>
    public long MinParallelMultAdds { get; init; } = 1_000_000;

    /// <summary>Name used in error messages (usually the model file's path).</summary>
    public string SourceName { get; init; } = "model";
}
