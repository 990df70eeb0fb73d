using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using EdgeMobileNet.Kernels.Simd;
using Xunit;

namespace EdgeMobileNet.Tests.Kernels;

/// <summary>
/// The per-ISA ops interfaces the generic kernels are written over declare every static member abstract. NativeAOT
/// compiled a default interface body as a call (the ARM int8 tiles called one per row and pair of groups) and did not
/// fold a default constant (the x64 fp32 tile kept its accumulators in memory: V1 1.0-224 3.5x slower), while the
/// JIT-compiled tests ran both at full speed; so each struct must state its own.
/// </summary>
public class KernelOpsInterfaceTests
{
    public static TheoryData<Type> OpsInterfaces() =>
    [
        typeof(IF32Ops<>), typeof(IQs8Dot<,>), typeof(IQs8DwOps<,>), typeof(IQs8QuadStep), typeof(IQs8Rounding8<>), typeof(IRowCount),
    ];

    [Theory]
    [MemberData(nameof(OpsInterfaces))]
    public void EveryStaticMemberIsAbstract(
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicMethods | DynamicallyAccessedMemberTypes.NonPublicMethods)] Type ops)
    {
        var statics = ops.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly);
        Assert.NotEmpty(statics);
        var withBodies = statics.Where(m => !m.IsAbstract).Select(m => m.Name).ToList();
        Assert.True(withBodies.Count == 0, $"{ops.Name} has default bodies: {string.Join(", ", withBodies)}");
    }
}
