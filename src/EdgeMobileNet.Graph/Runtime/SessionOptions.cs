namespace EdgeMobileNet.Graph.Runtime;

public sealed class SessionOptions
{
    /// <summary>Kernel set name for <see cref="EdgeMobileNet.Kernels.Dispatch.KernelRegistry.Select"/>; null = auto.</summary>
    public string? Isa { get; init; }

    /// <summary>Name used in error messages (usually the model file's path).</summary>
    public string SourceName { get; init; } = "model";
}
