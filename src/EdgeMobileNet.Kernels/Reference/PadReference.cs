namespace EdgeMobileNet.Kernels.Reference;

/// <summary>
/// Constant PAD of a dense row-major tensor (TFLite reference_ops::Pad semantics): output dimension d is
/// before[d] + input[d] + after[d]; every element outside the input takes <c>fill</c> (for int8 TFLite uses the
/// output zero point, for fp32 0). Data is moved, never changed, so one kernel serves every element type.
/// </summary>
public static class PadReference
{
    public static int[] OutputShape(ReadOnlySpan<int> inputShape, ReadOnlySpan<int> before, ReadOnlySpan<int> after)
    {
        Check(inputShape, before, after);
        var shape = new int[inputShape.Length];
        for (int d = 0; d < shape.Length; d++) shape[d] = checked(inputShape[d] + before[d] + after[d]);
        return shape;
    }

    public static void Pad<T>(ReadOnlySpan<int> inputShape, ReadOnlySpan<int> before, ReadOnlySpan<int> after, T fill,
        ReadOnlySpan<T> input, Span<T> output)
    {
        var outShape = OutputShape(inputShape, before, after);
        long inCount = 1, outCount = 1;
        foreach (int d in inputShape) inCount *= d;
        foreach (int d in outShape) outCount *= d;
        ReferenceChecks.Length(input.Length, inCount, nameof(input));
        ReferenceChecks.Length(output.Length, outCount, nameof(output));
        output.Fill(fill);
        if (inCount == 0) return;

        int rank = inputShape.Length;
        Span<int> index = stackalloc int[TransposeReference.MaxRank];
        index.Clear();
        for (long i = 0; i < inCount; i++)
        {
            long o = 0;
            for (int d = 0; d < rank; d++) o = o * outShape[d] + index[d] + before[d];
            output[(int)o] = input[(int)i];
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++index[d] < inputShape[d]) break;
                index[d] = 0;
            }
        }
    }

    private static void Check(ReadOnlySpan<int> inputShape, ReadOnlySpan<int> before, ReadOnlySpan<int> after)
    {
        if (inputShape.Length > TransposeReference.MaxRank)
            throw new ArgumentException($"rank {inputShape.Length} is more than {TransposeReference.MaxRank}", nameof(inputShape));
        if (before.Length != inputShape.Length || after.Length != inputShape.Length)
            throw new ArgumentException($"{before.Length}/{after.Length} paddings for rank {inputShape.Length}", nameof(before));
        for (int d = 0; d < inputShape.Length; d++)
            if (inputShape[d] < 0 || before[d] < 0 || after[d] < 0)
                throw new ArgumentException($"negative size or padding in dimension {d}", nameof(before));
    }
}
