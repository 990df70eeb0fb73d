using System.Buffers.Binary;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Kernels.Reference;

namespace EdgeMobileNet.Graph.Operators;

/// <summary>Transpose by a constant permutation (reference kernel; data is moved, never changed).</summary>
public static class TransposeOperator
{
    public static PreparedOperator Create(OperatorBinding b)
    {
        var input = b.InputTensor(0);
        var permData = b.InputTensor(1).Data!.Value.Span;
        var perm = new int[input.Shape.Length];
        for (int i = 0; i < perm.Length; i++) perm[i] = BinaryPrimitives.ReadInt32LittleEndian(permData.Slice(i * 4, 4));
        return input.DataType switch
        {
            DataType.Int8 => new Kernel<sbyte>(b.Op, b.Index, input.Shape, perm, b.Input(0), b.Output(0)),
            DataType.Float32 => new Kernel<float>(b.Op, b.Index, input.Shape, perm, b.Input(0), b.Output(0)),
            _ => new Kernel<int>(b.Op, b.Index, input.Shape, perm, b.Input(0), b.Output(0)),
        };
    }

    private sealed class Kernel<T>(OperatorDefinition def, int index, int[] shape, int[] perm, TensorBuffer input,
        TensorBuffer output) : PreparedOperator(def, index) where T : unmanaged
    {
        public override void Run() => TransposeReference.Transpose<T>(shape, perm, input.AsReadOnly<T>(), output.As<T>());
    }
}
