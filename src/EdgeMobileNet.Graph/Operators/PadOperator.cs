using System.Buffers.Binary;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Kernels.Reference;

namespace EdgeMobileNet.Graph.Operators;

/// <summary>Constant padding by a constant [rank, 2] paddings tensor; int8 fills with the zero point, fp32 with 0.</summary>
public static class PadOperator
{
    /// <summary>Reads the (before, after) pairs of a constant int32 [rank, 2] paddings tensor.</summary>
    public static (int[] Before, int[] After) Paddings(TensorDefinition paddings)
    {
        var data = paddings.Data!.Value.Span;
        int rank = data.Length / 8;
        var before = new int[rank];
        var after = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            before[d] = BinaryPrimitives.ReadInt32LittleEndian(data.Slice(d * 8, 4));
            after[d] = BinaryPrimitives.ReadInt32LittleEndian(data.Slice(d * 8 + 4, 4));
        }
        return (before, after);
    }

    public static PreparedOperator Create(OperatorBinding b)
    {
        var input = b.InputTensor(0);
        var (before, after) = Paddings(b.InputTensor(1));
        return input.DataType switch
        {
            DataType.Int8 => new Kernel<sbyte>(b.Op, b.Index, input.Shape, before, after,
                (sbyte)b.OutputTensor(0).Quantization!.ZeroPoint, b.Input(0), b.Output(0)),
            DataType.Float32 => new Kernel<float>(b.Op, b.Index, input.Shape, before, after, 0f, b.Input(0), b.Output(0)),
            _ => new Kernel<int>(b.Op, b.Index, input.Shape, before, after, 0, b.Input(0), b.Output(0)),
        };
    }

    private sealed class Kernel<T>(OperatorDefinition def, int index, int[] shape, int[] before, int[] after, T fill,
        TensorBuffer input, TensorBuffer output) : PreparedOperator(def, index) where T : unmanaged
    {
        public override void Run() => PadReference.Pad(shape, before, after, fill, input.AsReadOnly<T>(), output.As<T>());
    }
}
