namespace EdgeMobileNet.Kernels.Reference;

/// <summary>
/// TRANSPOSE of a dense row-major tensor of any element type (TFLite reference_ops::Transpose semantics):
/// output dimension i is input dimension perm[i], so output[i0..ir] = input at index j with j[perm[i]] = i_i.
/// Data is only moved, never changed, so one kernel serves f32 and int8 alike.
/// </summary>
public static class TransposeReference
{
    /// <summary>Largest rank handled (the .emn format's maximum).</summary>
    public const int MaxRank = 6;

    /// <summary>The output shape for <paramref name="inputShape"/> permuted by <paramref name="perm"/>.</summary>
    public static int[] OutputShape(ReadOnlySpan<int> inputShape, ReadOnlySpan<int> perm)
    {
        CheckPermutation(inputShape.Length, perm);
        var shape = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++) shape[i] = inputShape[perm[i]];
        return shape;
    }

    /// <summary>Throws ArgumentException unless <paramref name="perm"/> is a permutation of 0..rank-1.</summary>
    public static void CheckPermutation(int rank, ReadOnlySpan<int> perm)
    {
        if (rank < 0 || rank > MaxRank) throw new ArgumentException($"rank {rank} is not in 0..{MaxRank}", nameof(perm));
        if (perm.Length != rank) throw new ArgumentException($"permutation has {perm.Length} entries for rank {rank}", nameof(perm));
        Span<bool> seen = stackalloc bool[MaxRank];
        foreach (int p in perm)
        {
            if ((uint)p >= (uint)rank || seen[p])
                throw new ArgumentException($"[{string.Join(", ", perm.ToArray())}] is not a permutation of 0..{rank - 1}", nameof(perm));
            seen[p] = true;
        }
    }

    public static void Transpose<T>(ReadOnlySpan<int> inputShape, ReadOnlySpan<int> perm, ReadOnlySpan<T> input,
        Span<T> output)
    {
        int rank = inputShape.Length;
        CheckPermutation(rank, perm);
        long count = 1;
        foreach (int d in inputShape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension {d}", nameof(inputShape));
            count *= d;
        }
        ReferenceChecks.Length(input.Length, count, nameof(input));
        ReferenceChecks.Length(output.Length, count, nameof(output));
        if (count == 0) return;

        // Input strides, then the input stride of each output dimension.
        Span<long> inStride = stackalloc long[MaxRank];
        long stride = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            inStride[d] = stride;
            stride *= inputShape[d];
        }
        Span<int> outShape = stackalloc int[MaxRank];
        Span<long> strideOfOut = stackalloc long[MaxRank];
        for (int i = 0; i < rank; i++)
        {
            outShape[i] = inputShape[perm[i]];
            strideOfOut[i] = inStride[perm[i]];
        }

        Span<int> index = stackalloc int[MaxRank];
        index.Clear();
        long source = 0;
        for (long o = 0; o < count; o++)
        {
            output[(int)o] = input[(int)source];
            // Odometer increment over the output index, keeping the input offset in step.
            for (int d = rank - 1; d >= 0; d--)
            {
                index[d]++;
                source += strideOfOut[d];
                if (index[d] < outShape[d]) break;
                source -= strideOfOut[d] * outShape[d];
                index[d] = 0;
            }
        }
    }
}
