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

    /// <summary>Name used in error messages (usually the model file's path).</summary>
    public string SourceName { get; init; } = "model";
}
