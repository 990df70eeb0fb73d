using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Kernels.Dispatch;
using EdgeMobileNet.Kernels.Reference;

namespace EdgeMobileNet.Graph.Operators;

/// <summary>
/// Element-wise Add of two same-shaped tensors (the MobileNet V2 residual connection). A large one is shared out over
/// the pool in chunks of <see cref="ChunkElements"/>: on one thread V2 1.0-224 int8's ten adds took 0.24 ms, a tenth of
/// what a second thread saves on the whole model.
/// </summary>
public static class AddOperator
{
    /// <summary>Elements per chunk handed to a thread: a multiple of every kernel's vector step, so only the last chunk has a tail.</summary>
    internal const int ChunkElements = 2048;

    /// <summary>
    /// An element's cost in GEMM Mult-Adds, the unit of <see cref="SessionOptions.MinParallelMultAdds"/> (measured on
    /// AVX2: the int8 add's three exact rescales about 1 ns per element, fp32's 0.28 ns, GEMMs 40-80 GMAC/s).
    /// </summary>
    private const int Int8Cost = 64, F32Cost = 16;

    public static PreparedOperator Create(OperatorBinding b)
    {
        if (!b.IsInt8)
        {
            var (min, max) = b.F32ActivationRange();
            return new F32(b.Op, b.Index, b.Kernels.F32Add, b.Input(0), b.Input(1), b.Output(0), min, max, PoolFor(b, F32Cost));
        }
        var qa = b.InputTensor(0).Quantization!;
        var qb = b.InputTensor(1).Quantization!;
        var qo = b.OutputTensor(0).Quantization!;
        var (qmin, qmax) = b.Qs8ActivationRange();
        var p = Qs8AddParams.FromScales(qa.Scale, qa.ZeroPoint, qb.Scale, qb.ZeroPoint, qo.Scale, qo.ZeroPoint, qmin, qmax);
        return new Qs8(b.Op, b.Index, b.Kernels.Qs8Add, p, b.Input(0), b.Input(1), b.Output(0), PoolFor(b, Int8Cost));
    }

    /// <summary>The pool, or null for an add too small to share.</summary>
    private static WorkerPool? PoolFor(OperatorBinding b, int cost) =>
        b.Pool is { } pool && b.OutputTensor(0).ElementCount * cost >= pool.MinParallelMultAdds ? pool : null;

    /// <summary>Elements [start, start + length) of chunks [first, first + count) of <paramref name="elements"/>.</summary>
    internal static (int Start, int Length) Chunks(int first, int count, int elements)
    {
        int start = first * ChunkElements;
        return (start, Math.Min(elements, (first + count) * ChunkElements) - start);
    }

    /// <summary>Runs <paramref name="work"/> over every chunk of the elements: all on the calling thread, or over the pool.</summary>
    private static void Run(IRowWork work, WorkerPool? pool, int elements) =>
        WorkerPool.Run(pool, work, (elements + ChunkElements - 1) / ChunkElements);

    private sealed class F32(OperatorDefinition def, int index, F32AddKernel kernel, TensorBuffer a, TensorBuffer b,
        TensorBuffer output, float min, float max, WorkerPool? pool) : PreparedOperator(def, index), IRowWork
    {
        private readonly int _elements = output.AsReadOnly<float>().Length;

        public override void Run() => AddOperator.Run(this, pool, _elements);

        public void RunRows(int first, int count)
        {
            var (start, length) = Chunks(first, count, _elements);
            kernel(a.AsReadOnly<float>().Slice(start, length), b.AsReadOnly<float>().Slice(start, length), output.As<float>().Slice(start, length), min, max);
        }
    }

    private sealed class Qs8(OperatorDefinition def, int index, Qs8AddKernel kernel, Qs8AddParams p, TensorBuffer a,
        TensorBuffer b, TensorBuffer output, WorkerPool? pool) : PreparedOperator(def, index), IRowWork
    {
        private readonly int _elements = output.AsReadOnly<sbyte>().Length;

        public override void Run() => AddOperator.Run(this, pool, _elements);

        public void RunRows(int first, int count)
        {
            var (start, length) = Chunks(first, count, _elements);
            kernel(p, a.AsReadOnly<sbyte>().Slice(start, length), b.AsReadOnly<sbyte>().Slice(start, length), output.As<sbyte>().Slice(start, length));
        }
    }
}
