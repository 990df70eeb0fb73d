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
    /// Layers with fewer Mult-Adds than this run on the calling thread alone: handing a layer to the (spinning)
    /// workers costs a few microseconds, as much as such a layer takes. V1 0.25-128 int8 ran slower on 2 threads
    /// than on 1 with no threshold, and also with 1M (its first layers, under 1M but slow, stayed on one thread).
    /// </summary>
    public long MinParallelMultAdds { get; init; } = 250_000;

    /// <summary>Name used in error messages (usually the model file's path).</summary>
    public string SourceName { get; init; } = "model";
}
