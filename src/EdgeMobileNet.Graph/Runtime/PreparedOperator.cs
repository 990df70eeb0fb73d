using EdgeMobileNet.Format.Model;

namespace EdgeMobileNet.Graph.Runtime;

/// <summary>
/// One operator bound to its tensors' memory and to its kernel, with every parameter the kernel
/// needs computed once at load (geometry, clamp range, int8 multipliers). <see cref="Run"/> only
/// computes: it allocates nothing.
/// </summary>
public abstract class PreparedOperator(OperatorDefinition definition, int index)
{
    public OperatorDefinition Definition { get; } = definition;
    public int Index { get; } = index;

    /// <summary>The kernel the kernel set picked for this operator at load (e.g. Qs8Gemm_2x8c16_AdvSimd), or null where none is named.</summary>
    public virtual string? KernelName => null;

    public abstract void Run();
}
