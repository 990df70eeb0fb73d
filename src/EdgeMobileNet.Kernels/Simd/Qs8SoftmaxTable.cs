using EdgeMobileNet.Kernels.Quantization;
using EdgeMobileNet.Kernels.Reference;

namespace EdgeMobileNet.Kernels.Simd;

/// <summary>
/// int8 softmax with its exponentials looked up: q - max is one of 256 values, so the reference's fixed-point
/// exp(scaled diff) (and its Q12.19 rescale for the sum) is computed once per value when the operator is prepared.
/// The rest is the reference's arithmetic, so the output is bit-exact with <see cref="Qs8Reference.Softmax"/>
/// (TFLite's optimized int8 softmax uses a table the same way). Allocates only at construction.
/// </summary>
public sealed class Qs8SoftmaxTable
{
    private const int ScaledDiffIntegerBits = 5, AccumulationIntegerBits = 12;
    private readonly int[] _exp = new int[256];      // [max - q]: exp in Q0.31, for diff >= DiffMin
    private readonly int[] _rescaled = new int[256]; // the same in Q12.19, 0 where diff < DiffMin (not summed)
    private readonly bool[] _counted = new bool[256];
    private readonly int _outputZeroPoint;

    public Qs8SoftmaxTable(in Qs8SoftmaxParams p)
    {
        if ((uint)p.InputLeftShift > 31 || p.DiffMin > 0) throw new ArgumentException($"bad softmax params {p}", nameof(p));
        for (int d = 0; d < 256; d++)
        {
            if (-d < p.DiffMin) continue;
            _counted[d] = true;
            _exp[d] = Qs8Reference.ExpOfScaledDiff(p, -d, ScaledDiffIntegerBits);
            _rescaled[d] = GemmlowpFixedPoint.Rescale(_exp[d], 0, AccumulationIntegerBits);
        }
        _outputZeroPoint = p.OutputZeroPoint;
    }

    public void Run(int rows, int depth, ReadOnlySpan<sbyte> input, Span<sbyte> output)
    {
        ReferenceChecks.RowsOfDepth(rows, depth, input.Length, output.Length);
        for (int r = 0; r < rows; r++)
        {
            var x = input.Slice(r * depth, depth);
            var y = output.Slice(r * depth, depth);
            int max = sbyte.MinValue;
            foreach (sbyte v in x) max = Math.Max(max, v);
            long sumOfExps = 0;
            foreach (sbyte v in x) sumOfExps += _rescaled[max - v];
            int sum = (int)Math.Min(sumOfExps, int.MaxValue);
            int reciprocal = FixedPoint.GetReciprocal(sum, AccumulationIntegerBits, out int numBitsOverUnit);
            int exponent = numBitsOverUnit + 31 - 8;
            for (int c = 0; c < depth; c++)
            {
                int d = max - x[c], scaled = 0;
                if (_counted[d])
                {
                    int probability = FixedPoint.SaturatingRoundingDoublingHighMul(reciprocal, _exp[d]);
                    scaled = exponent <= 31 ? FixedPoint.RoundingDivideByPOT(probability, exponent) : 0;
                }
                y[c] = (sbyte)Math.Clamp(scaled + _outputZeroPoint, sbyte.MinValue, sbyte.MaxValue);
            }
        }
    }
}
