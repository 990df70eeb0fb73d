using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Kernels.Reference;

/// <summary>
/// Scalar, readable int8 reference kernels, exactly TFLite's int8 scheme (reference_integer_ops):
/// asymmetric int8 activations, symmetric (zero point 0) int8 weights per channel or per tensor,
/// int32 bias, requantization through <see cref="FixedPoint"/>. The oracle for every optimized int8 kernel.
/// </summary>
/// <remarks>
/// Span lengths must match the shapes exactly (ArgumentException otherwise); bias may be empty (= zero).
/// int32 accumulation wraps on overflow, as TFLite's does in practice (real layers never come close).
/// The *Accumulators methods expose the int32 accumulators before requantization so optimized kernels can be
/// checked stage by stage.
/// </remarks>
public static class Qs8Reference
{
    /// <summary>
    /// acc[c] = bias[c] + sum (input - inputZeroPoint) * filter; out = output.Requantize(acc, c).
    /// filter [OutC, KernelH, KernelW, InC]; padding reads contribute nothing (input == inputZeroPoint).
    /// </summary>
    public static void Conv2D(in ConvGeometry g, int inputZeroPoint, Qs8OutputParams outputParams,
        ReadOnlySpan<sbyte> input, ReadOnlySpan<sbyte> filter, ReadOnlySpan<int> bias, Span<sbyte> output)
    {
        CheckConv(g, input, filter, bias, output.Length, nameof(output));
        CheckOutputParams(outputParams, g.OutC);

        for (int b = 0; b < g.Batch; b++)
        for (int oy = 0; oy < g.OutH; oy++)
        for (int ox = 0; ox < g.OutW; ox++)
        for (int oc = 0; oc < g.OutC; oc++)
        {
            int acc = ConvAccumulator(g, inputZeroPoint, input, filter, bias, b, oy, ox, oc);
            output[((b * g.OutH + oy) * g.OutW + ox) * g.OutC + oc] = (sbyte)outputParams.Requantize(acc, oc);
        }
    }

    /// <summary>The int32 accumulators of <see cref="Conv2D"/> (bias included), laid out like its output.</summary>
    public static void Conv2DAccumulators(in ConvGeometry g, int inputZeroPoint, ReadOnlySpan<sbyte> input,
        ReadOnlySpan<sbyte> filter, ReadOnlySpan<int> bias, Span<int> accumulators)
    {
        CheckConv(g, input, filter, bias, accumulators.Length, nameof(accumulators));

        for (int b = 0; b < g.Batch; b++)
        for (int oy = 0; oy < g.OutH; oy++)
        for (int ox = 0; ox < g.OutW; ox++)
        for (int oc = 0; oc < g.OutC; oc++)
            accumulators[((b * g.OutH + oy) * g.OutW + ox) * g.OutC + oc] =
                ConvAccumulator(g, inputZeroPoint, input, filter, bias, b, oy, ox, oc);
    }

    /// <summary>filter [1, KernelH, KernelW, OutC]; see <see cref="Conv2D"/>.</summary>
    public static void DepthwiseConv2D(in ConvGeometry g, int inputZeroPoint, Qs8OutputParams outputParams,
        ReadOnlySpan<sbyte> input, ReadOnlySpan<sbyte> filter, ReadOnlySpan<int> bias, Span<sbyte> output)
    {
        CheckDepthwise(g, input, filter, bias, output.Length, nameof(output));
        CheckOutputParams(outputParams, g.OutC);

        for (int b = 0; b < g.Batch; b++)
        for (int oy = 0; oy < g.OutH; oy++)
        for (int ox = 0; ox < g.OutW; ox++)
        for (int oc = 0; oc < g.OutC; oc++)
        {
            int acc = DepthwiseAccumulator(g, inputZeroPoint, input, filter, bias, b, oy, ox, oc);
            output[((b * g.OutH + oy) * g.OutW + ox) * g.OutC + oc] = (sbyte)outputParams.Requantize(acc, oc);
        }
    }

    /// <summary>The int32 accumulators of <see cref="DepthwiseConv2D"/> (bias included), laid out like its output.</summary>
    public static void DepthwiseConv2DAccumulators(in ConvGeometry g, int inputZeroPoint, ReadOnlySpan<sbyte> input,
        ReadOnlySpan<sbyte> filter, ReadOnlySpan<int> bias, Span<int> accumulators)
    {
        CheckDepthwise(g, input, filter, bias, accumulators.Length, nameof(accumulators));

        for (int b = 0; b < g.Batch; b++)
        for (int oy = 0; oy < g.OutH; oy++)
        for (int ox = 0; ox < g.OutW; ox++)
        for (int oc = 0; oc < g.OutC; oc++)
            accumulators[((b * g.OutH + oy) * g.OutW + ox) * g.OutC + oc] =
                DepthwiseAccumulator(g, inputZeroPoint, input, filter, bias, b, oy, ox, oc);
    }

    /// <summary>
    /// acc = bias[o] + sum (input - inputZeroPoint) * (filter - filterZeroPoint); requantized per
    /// <paramref name="outputParams"/> (per-tensor or per output row).
    /// </summary>
    public static void FullyConnected(int batch, int inputDepth, int outputDepth, int inputZeroPoint,
        int filterZeroPoint, Qs8OutputParams outputParams, ReadOnlySpan<sbyte> input, ReadOnlySpan<sbyte> filter,
        ReadOnlySpan<int> bias, Span<sbyte> output)
    {
        CheckFullyConnected(batch, inputDepth, outputDepth, input, filter, bias, output.Length, nameof(output));
        CheckOutputParams(outputParams, outputDepth);

        for (int b = 0; b < batch; b++)
        for (int o = 0; o < outputDepth; o++)
        {
            int acc = FullyConnectedAccumulator(inputDepth, inputZeroPoint, filterZeroPoint, input, filter, bias, b, o);
            output[b * outputDepth + o] = (sbyte)outputParams.Requantize(acc, o);
        }
    }

    /// <summary>The int32 accumulators of <see cref="FullyConnected"/> (bias included), [batch, outputDepth].</summary>
    public static void FullyConnectedAccumulators(int batch, int inputDepth, int outputDepth, int inputZeroPoint,
        int filterZeroPoint, ReadOnlySpan<sbyte> input, ReadOnlySpan<sbyte> filter, ReadOnlySpan<int> bias,
        Span<int> accumulators)
    {
        CheckFullyConnected(batch, inputDepth, outputDepth, input, filter, bias, accumulators.Length,
            nameof(accumulators));

        for (int b = 0; b < batch; b++)
        for (int o = 0; o < outputDepth; o++)
            accumulators[b * outputDepth + o] =
                FullyConnectedAccumulator(inputDepth, inputZeroPoint, filterZeroPoint, input, filter, bias, b, o);
    }

    /// <summary>TFLite int8 ADD (left shift 20, per-input multipliers, output multiplier).</summary>
    /// <remarks>
    /// out = clamp(MBQM(MBQM((a - zpA) * 2^LeftShift, mA, sA) + MBQM((b - zpB) * 2^LeftShift, mB, sB), mOut, sOut) + zpOut).
    /// TFLite uses MultiplyByQuantizedMultiplierSmallerThanOneExp, identical to MBQM for the shifts (&lt;= 0) its Prepare makes.
    /// </remarks>
    public static void Add(in Qs8AddParams p, ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b, Span<sbyte> output)
    {
        ReferenceChecks.Length(b.Length, a.Length, nameof(b));
        ReferenceChecks.Length(output.Length, a.Length, nameof(output));
        ReferenceChecks.Int8Range(p.OutputMin, p.OutputMax, nameof(p));
        if ((uint)p.LeftShift > 30)
            throw new ArgumentException($"left shift {p.LeftShift} is not in [0, 30]", nameof(p));

        for (int i = 0; i < a.Length; i++)
        {
            // Bring both inputs to a common, finer scale: 2^LeftShift headroom keeps the rescale precise.
            int shiftedA = unchecked((a[i] - p.InputAZeroPoint) * (1 << p.LeftShift));
            int shiftedB = unchecked((b[i] - p.InputBZeroPoint) * (1 << p.LeftShift));
            int scaledA = FixedPoint.MultiplyByQuantizedMultiplier(shiftedA, p.InputAMultiplier, p.InputAShift);
            int scaledB = FixedPoint.MultiplyByQuantizedMultiplier(shiftedB, p.InputBMultiplier, p.InputBShift);
            int rawSum = unchecked(scaledA + scaledB);
            int rawOutput = FixedPoint.MultiplyByQuantizedMultiplier(rawSum, p.OutputMultiplier, p.OutputShift)
                + p.OutputZeroPoint;
            output[i] = (sbyte)Math.Clamp(rawOutput, p.OutputMin, p.OutputMax);
        }
    }

    /// <summary>
    /// TFLite int8 AVERAGE_POOL_2D: input and output share scale and zero point; the sum over the valid
    /// part of the window is divided by its element count rounding half away from zero, then clamped.
    /// </summary>
    /// <remarks>A window lying entirely in the padding has no average: ArgumentException (TFLite fails Eval).</remarks>
    public static void AveragePool2D(in ConvGeometry g, int outputMin, int outputMax, ReadOnlySpan<sbyte> input,
        Span<sbyte> output)
    {
        ReferenceChecks.PoolGeometry(g, nameof(g));
        ReferenceChecks.Length(input.Length, ReferenceChecks.InputElements(g), nameof(input));
        ReferenceChecks.Length(output.Length, ReferenceChecks.OutputElements(g), nameof(output));
        ReferenceChecks.Int8Range(outputMin, outputMax, nameof(outputMin));

        for (int b = 0; b < g.Batch; b++)
        for (int oy = 0; oy < g.OutH; oy++)
        for (int ox = 0; ox < g.OutW; ox++)
        for (int c = 0; c < g.OutC; c++)
        {
            // Raw int8 values are summed: with a shared zero point the average of q is the q of the average.
            int sum = 0;
            int count = 0;
            for (int ky = 0; ky < g.KernelH; ky++)
            {
                int iy = oy * g.StrideH - g.PadTop + ky * g.DilationH;
                if (iy < 0 || iy >= g.InH) continue; // padding is excluded from both sum and count
                for (int kx = 0; kx < g.KernelW; kx++)
                {
                    int ix = ox * g.StrideW - g.PadLeft + kx * g.DilationW;
                    if (ix < 0 || ix >= g.InW) continue;
                    sum += input[((b * g.InH + iy) * g.InW + ix) * g.InC + c];
                    count++;
                }
            }

            output[((b * g.OutH + oy) * g.OutW + ox) * g.OutC + c] =
                (sbyte)Math.Clamp(RoundedAverage(sum, count), outputMin, outputMax);
        }
    }

    /// <summary>
    /// Mean over height and width of [batch, height, width, channels] into [batch, channels].
    /// When input and output quantization are equal this is AveragePool2D over the whole plane.
    /// Otherwise: acc = sum(q - inZp); out = clamp(MultiplyByQuantizedMultiplier(acc, multiplier, shift) + outZp),
    /// where multiplier/shift encode inScale / (outScale * height * width).
    /// </summary>
    public static void GlobalAveragePool(in Qs8MeanParams p, ReadOnlySpan<sbyte> input, Span<sbyte> output)
    {
        CheckGlobalAveragePool(p, input.Length, output.Length);
        int count = p.Height * p.Width;
        for (int b = 0; b < p.Batch; b++)
        for (int c = 0; c < p.Channels; c++)
        {
            int rawSum = 0;      // sum of q (the same-quantization path)
            int centeredSum = 0; // sum of q - inZp (the rescaling path)
            for (int y = 0; y < p.Height; y++)
            for (int x = 0; x < p.Width; x++)
            {
                int q = input[((b * p.Height + y) * p.Width + x) * p.Channels + c];
                rawSum += q;
                centeredSum += q - p.InputZeroPoint;
            }

            output[b * p.Channels + c] = GlobalAverage(p, rawSum, centeredSum, count);
        }
    }

    /// <summary>The shape, clamp and length checks of <see cref="GlobalAveragePool"/>, shared with its SIMD version.</summary>
    public static void CheckGlobalAveragePool(in Qs8MeanParams p, int inputLength, int outputLength)
    {
        if (p.Batch < 0 || p.Height <= 0 || p.Width <= 0 || p.Channels < 0)
            throw new ArgumentException($"bad mean shape [{p.Batch}, {p.Height}, {p.Width}, {p.Channels}]", nameof(p));
        long planeLength = (long)p.Height * p.Width;
        if (planeLength * 256 > int.MaxValue) // |q - zp| <= 255 must not overflow the int32 sum
            throw new ArgumentException($"plane {p.Height}x{p.Width} too large for an int32 sum", nameof(p));
        ReferenceChecks.Int8Range(p.OutputMin, p.OutputMax, nameof(p));
        ReferenceChecks.Length(inputLength, (long)p.Batch * planeLength * p.Channels, "input");
        ReferenceChecks.Length(outputLength, (long)p.Batch * p.Channels, "output");
    }

    /// <summary>
    /// One channel's mean from its sum of q (<paramref name="rawSum"/>) and of q - input zero point
    /// (<paramref name="centeredSum"/>) over <paramref name="count"/> values, clamped.
    /// </summary>
    public static sbyte GlobalAverage(in Qs8MeanParams p, int rawSum, int centeredSum, int count)
    {
        int result = p.SameQuantization
            ? RoundedAverage(rawSum, count)
            : FixedPoint.MultiplyByQuantizedMultiplier(centeredSum, p.Multiplier, p.Shift) + p.OutputZeroPoint;
        return (sbyte)Math.Clamp(result, p.OutputMin, p.OutputMax);
    }

    /// <summary>
    /// TFLite's int8 MEAN over height and width (tflite-micro reduce_common.cc EvalIntegerMean), [batch, height,
    /// width, channels] to [batch, channels]. Equal input and output quantization: out = (int8)(sum(q) / count)
    /// with C++ integer division (truncation toward zero, no clamp needed). Otherwise reference_ops::QuantizedMeanOrSum:
    /// out = clamp(MultiplyByQuantizedMultiplier(sum(q) - inZp * count, m, s) + outZp), where (m, s) is
    /// <see cref="FixedPoint.MeanMultiplier"/> of QuantizeMultiplier(inScale / outScale).
    /// </summary>
    /// <remarks>
    /// This differs from <see cref="GlobalAveragePool"/> by up to 1 in both paths (truncation instead of rounding;
    /// the 1/count factor folded into the multiplier after quantizing it rather than before).
    /// </remarks>
    public static void Mean(in Qs8TfLiteMeanParams p, ReadOnlySpan<sbyte> input, Span<sbyte> output)
    {
        if (p.Batch < 0 || p.Height <= 0 || p.Width <= 0 || p.Channels < 0)
            throw new ArgumentException($"bad mean shape [{p.Batch}, {p.Height}, {p.Width}, {p.Channels}]", nameof(p));
        long planeLength = (long)p.Height * p.Width;
        if (planeLength * 256 > int.MaxValue) // |q - zp| <= 255 must not overflow the int32 sum
            throw new ArgumentException($"plane {p.Height}x{p.Width} too large for an int32 sum", nameof(p));
        if (!p.SameQuantization && (p.Shift < FixedPoint.MinShift || p.Shift > FixedPoint.MaxShift))
            throw new ArgumentException($"shift {p.Shift} is not in [-31, 30]", nameof(p));
        ReferenceChecks.Length(input.Length, (long)p.Batch * planeLength * p.Channels, nameof(input));
        ReferenceChecks.Length(output.Length, (long)p.Batch * p.Channels, nameof(output));

        int count = (int)planeLength;
        for (int b = 0; b < p.Batch; b++)
        for (int c = 0; c < p.Channels; c++)
        {
            int sum = 0;
            for (int y = 0; y < p.Height; y++)
            for (int x = 0; x < p.Width; x++)
                sum += input[((b * p.Height + y) * p.Width + x) * p.Channels + c];

            int result;
            if (p.SameQuantization)
            {
                result = sum / count; // C# integer division truncates toward zero, like C++
            }
            else
            {
                int centered = unchecked(sum - p.InputZeroPoint * count);
                result = FixedPoint.MultiplyByQuantizedMultiplier(centered, p.Multiplier, p.Shift) + p.OutputZeroPoint;
                result = Math.Clamp(result, sbyte.MinValue, sbyte.MaxValue);
            }
            output[b * p.Channels + c] = (sbyte)result;
        }
    }

    /// <summary>TFLite int8 SOFTMAX reference (gemmlowp fixed-point exp, output scale 1/256 zero point -128).</summary>
    /// <remarks>
    /// Per row: diff = q - max(q); entries with diff &lt; DiffMin are ignored (probability 0, output = zero point);
    /// the others get exp(diff * beta * scale) in Q0 from <see cref="GemmlowpFixedPoint.ExpOnNegativeValues"/>
    /// (diff rescaled to Q5.26), summed in Q12.19, inverted with <see cref="FixedPoint.GetReciprocal"/>, and
    /// out = clamp(RoundingDivideByPOT(recip * exp, numBitsOverUnit + 23) + OutputZeroPoint, -128, 127).
    /// Two cases where TFLite would fail or overflow are defined here instead: a sum of exps of 512 or more
    /// (every probability &lt; 1/512, so every output rounds to exactly 0 + zero point) and more than 4095 terms
    /// (the Q12.19 sum saturates instead of wrapping, giving the same all-zero result).
    /// </remarks>
    public static void Softmax(in Qs8SoftmaxParams p, int rows, int depth, ReadOnlySpan<sbyte> input, Span<sbyte> output)
    {
        ReferenceChecks.RowsOfDepth(rows, depth, input.Length, output.Length);
        if ((uint)p.InputLeftShift > 31 || p.DiffMin > 0)
            throw new ArgumentException($"bad softmax params {p}", nameof(p));

        if (depth == 0) return;

        const int scaledDiffIntegerBits = 5;   // exp() input format: Q5.26
        const int accumulationIntegerBits = 12; // sum format: Q12.19
        for (int r = 0; r < rows; r++)
        {
            var x = input.Slice(r * depth, depth);
            var y = output.Slice(r * depth, depth);

            int max = sbyte.MinValue;
            for (int c = 0; c < depth; c++) max = Math.Max(max, x[c]);

            long sumOfExps = 0;
            for (int c = 0; c < depth; c++)
            {
                int diff = x[c] - max;
                if (diff < p.DiffMin) continue; // exp underflows: contributes nothing
                int exp = ExpOfScaledDiff(p, diff, scaledDiffIntegerBits);
                sumOfExps += GemmlowpFixedPoint.Rescale(exp, 0, accumulationIntegerBits);
            }

            // Saturate rather than wrap (see remarks); the max element alone contributes 2^19, so the sum is > 0.
            int sum = (int)Math.Min(sumOfExps, int.MaxValue);
            int reciprocal = FixedPoint.GetReciprocal(sum, accumulationIntegerBits, out int numBitsOverUnit);
            int exponent = numBitsOverUnit + 31 - 8;

            for (int c = 0; c < depth; c++)
            {
                int diff = x[c] - max;
                // Probability in units of 1/256. Ignored entries are probability 0: TFLite writes the type minimum,
                // which is 0 + zero point for the zero point -128 it requires.
                int scaled = 0;
                if (diff >= p.DiffMin)
                {
                    int exp = ExpOfScaledDiff(p, diff, scaledDiffIntegerBits);
                    int probability = FixedPoint.SaturatingRoundingDoublingHighMul(reciprocal, exp); // Q0, * 2^-numBitsOverUnit
                    // probability < 2^31, so dividing by 2^32 or more rounds to 0 (TFLite rejects exponent > 31).
                    scaled = exponent <= 31 ? FixedPoint.RoundingDivideByPOT(probability, exponent) : 0;
                }

                y[c] = (sbyte)Math.Clamp(scaled + p.OutputZeroPoint, sbyte.MinValue, sbyte.MaxValue);
            }
        }
    }

    /// <summary>Requantizes int8 from one (scale, zero point) to another (TFLite QUANTIZE int8 to int8).</summary>
    /// <remarks>out = clamp(MultiplyByQuantizedMultiplier(q - inputZeroPoint, multiplier, shift) + outputZeroPoint, -128, 127).</remarks>
    public static void Requantize(ReadOnlySpan<sbyte> input, int inputZeroPoint, int multiplier, int shift,
        int outputZeroPoint, Span<sbyte> output)
    {
        ReferenceChecks.Length(output.Length, input.Length, nameof(output));
        if (shift < FixedPoint.MinShift || shift > FixedPoint.MaxShift)
            throw new ArgumentOutOfRangeException(nameof(shift), shift, "shift must be in [-31, 30]");

        for (int i = 0; i < input.Length; i++)
        {
            int scaled = FixedPoint.MultiplyByQuantizedMultiplier(input[i] - inputZeroPoint, multiplier, shift);
            output[i] = (sbyte)Math.Clamp(scaled + outputZeroPoint, sbyte.MinValue, sbyte.MaxValue);
        }
    }

    /// <summary>TFLite's integer average: sum / count rounded half away from zero ((sum ± count/2) / count, truncating).</summary>
    public static int RoundedAverage(int sum, int count) =>
        sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;

    /// <summary>exp(beta * scale * diff) in Q0 for diff = q - max &lt;= 0: diff is rescaled to Q5.26 first.</summary>
    internal static int ExpOfScaledDiff(in Qs8SoftmaxParams p, int diff, int integerBits)
    {
        int rescaled = FixedPoint.MultiplyByQuantizedMultiplierGreaterThanOne(diff, p.InputMultiplier, p.InputLeftShift);
        return GemmlowpFixedPoint.ExpOnNegativeValues(rescaled, integerBits);
    }

    private static int ConvAccumulator(in ConvGeometry g, int inputZeroPoint, ReadOnlySpan<sbyte> input,
        ReadOnlySpan<sbyte> filter, ReadOnlySpan<int> bias, int b, int oy, int ox, int oc)
    {
        int acc = 0;
        unchecked
        {
            for (int ky = 0; ky < g.KernelH; ky++)
            {
                int iy = oy * g.StrideH - g.PadTop + ky * g.DilationH;
                if (iy < 0 || iy >= g.InH) continue; // padding == input zero point: contributes nothing
                for (int kx = 0; kx < g.KernelW; kx++)
                {
                    int ix = ox * g.StrideW - g.PadLeft + kx * g.DilationW;
                    if (ix < 0 || ix >= g.InW) continue;
                    int inBase = ((b * g.InH + iy) * g.InW + ix) * g.InC;
                    int filterBase = ((oc * g.KernelH + ky) * g.KernelW + kx) * g.InC;
                    for (int ic = 0; ic < g.InC; ic++)
                        acc += (input[inBase + ic] - inputZeroPoint) * filter[filterBase + ic];
                }
            }

            if (!bias.IsEmpty) acc += bias[oc];
        }
        return acc;
    }

    private static int DepthwiseAccumulator(in ConvGeometry g, int inputZeroPoint, ReadOnlySpan<sbyte> input,
        ReadOnlySpan<sbyte> filter, ReadOnlySpan<int> bias, int b, int oy, int ox, int oc)
    {
        int ic = oc / g.DepthMultiplier; // each input channel feeds DepthMultiplier consecutive outputs
        int acc = 0;
        unchecked
        {
            for (int ky = 0; ky < g.KernelH; ky++)
            {
                int iy = oy * g.StrideH - g.PadTop + ky * g.DilationH;
                if (iy < 0 || iy >= g.InH) continue;
                for (int kx = 0; kx < g.KernelW; kx++)
                {
                    int ix = ox * g.StrideW - g.PadLeft + kx * g.DilationW;
                    if (ix < 0 || ix >= g.InW) continue;
                    acc += (input[((b * g.InH + iy) * g.InW + ix) * g.InC + ic] - inputZeroPoint)
                        * filter[(ky * g.KernelW + kx) * g.OutC + oc];
                }
            }

            if (!bias.IsEmpty) acc += bias[oc];
        }
        return acc;
    }

    private static int FullyConnectedAccumulator(int inputDepth, int inputZeroPoint, int filterZeroPoint,
        ReadOnlySpan<sbyte> input, ReadOnlySpan<sbyte> filter, ReadOnlySpan<int> bias, int b, int o)
    {
        int acc = 0;
        unchecked
        {
            for (int d = 0; d < inputDepth; d++)
                acc += (input[b * inputDepth + d] - inputZeroPoint) * (filter[o * inputDepth + d] - filterZeroPoint);
            if (!bias.IsEmpty) acc += bias[o];
        }
        return acc;
    }

    private static void CheckConv(in ConvGeometry g, ReadOnlySpan<sbyte> input, ReadOnlySpan<sbyte> filter,
        ReadOnlySpan<int> bias, int outputLength, string outputName)
    {
        ReferenceChecks.Geometry(g, nameof(g));
        ReferenceChecks.Length(input.Length, ReferenceChecks.InputElements(g), nameof(input));
        ReferenceChecks.Length(filter.Length, ReferenceChecks.ConvFilterElements(g), nameof(filter));
        ReferenceChecks.OptionalLength(bias.Length, g.OutC, nameof(bias));
        ReferenceChecks.Length(outputLength, ReferenceChecks.OutputElements(g), outputName);
    }

    private static void CheckDepthwise(in ConvGeometry g, ReadOnlySpan<sbyte> input, ReadOnlySpan<sbyte> filter,
        ReadOnlySpan<int> bias, int outputLength, string outputName)
    {
        ReferenceChecks.DepthwiseGeometry(g, nameof(g));
        ReferenceChecks.Length(input.Length, ReferenceChecks.InputElements(g), nameof(input));
        ReferenceChecks.Length(filter.Length, ReferenceChecks.DepthwiseFilterElements(g), nameof(filter));
        ReferenceChecks.OptionalLength(bias.Length, g.OutC, nameof(bias));
        ReferenceChecks.Length(outputLength, ReferenceChecks.OutputElements(g), outputName);
    }

    private static void CheckFullyConnected(int batch, int inputDepth, int outputDepth, ReadOnlySpan<sbyte> input,
        ReadOnlySpan<sbyte> filter, ReadOnlySpan<int> bias, int outputLength, string outputName)
    {
        ReferenceChecks.NonNegative(batch, nameof(batch));
        ReferenceChecks.NonNegative(inputDepth, nameof(inputDepth));
        ReferenceChecks.NonNegative(outputDepth, nameof(outputDepth));
        ReferenceChecks.Length(input.Length, (long)batch * inputDepth, nameof(input));
        ReferenceChecks.Length(filter.Length, (long)outputDepth * inputDepth, nameof(filter));
        ReferenceChecks.OptionalLength(bias.Length, outputDepth, nameof(bias));
        ReferenceChecks.Length(outputLength, (long)batch * outputDepth, outputName);
    }

    /// <summary>One multiplier per tensor or per output channel, shifts usable by MBQM, clamp inside int8.</summary>
    private static void CheckOutputParams(Qs8OutputParams p, int outputChannels)
    {
        ArgumentNullException.ThrowIfNull(p, "outputParams");
        if (p.Multipliers.Length != 1 && p.Multipliers.Length != outputChannels)
            throw new ArgumentException(
                $"{p.Multipliers.Length} multipliers for {outputChannels} output channels", "outputParams");
        foreach (int shift in p.Shifts)
            if (shift < FixedPoint.MinShift || shift > FixedPoint.MaxShift)
                throw new ArgumentException($"shift {shift} is not in [-31, 30]", "outputParams");
        ReferenceChecks.Int8Range(p.OutputMin, p.OutputMax, "outputParams");
    }
}

/// <summary>Prepared parameters of TFLite's int8 ADD.</summary>
public readonly record struct Qs8AddParams(
    int LeftShift,
    int InputAZeroPoint, int InputAMultiplier, int InputAShift,
    int InputBZeroPoint, int InputBMultiplier, int InputBShift,
    int OutputZeroPoint, int OutputMultiplier, int OutputShift,
    int OutputMin, int OutputMax)
{
    /// <summary>Prepares ADD from real scales as TFLite's Prepare does (left shift 20).</summary>
    /// <remarks>
    /// Inputs are rescaled by scale / (2 * max(scaleA, scaleB)) and the sum by 2 * max / (2^20 * outputScale), each
    /// through QuantizeMultiplierSmallerThanOneExp; like TFLite, an output multiplier that is not below 1 (output scale
    /// ~2^19 times finer than the inputs) is rejected.
    /// </remarks>
    public static Qs8AddParams FromScales(double scaleA, int zeroPointA, double scaleB, int zeroPointB,
        double outputScale, int outputZeroPoint, int outputMin, int outputMax)
    {
        CheckScale(scaleA, nameof(scaleA));
        CheckScale(scaleB, nameof(scaleB));
        CheckScale(outputScale, nameof(outputScale));
        ReferenceChecks.Int8Range(outputMin, outputMax, nameof(outputMin));

        const int leftShift = 20;
        double twiceMaxInputScale = 2 * Math.Max(scaleA, scaleB);
        double realA = scaleA / twiceMaxInputScale;
        double realB = scaleB / twiceMaxInputScale;
        double realOutput = twiceMaxInputScale / ((1 << leftShift) * outputScale);

        FixedPoint.QuantizeMultiplierSmallerThanOneExp(realA, out int multiplierA, out int shiftA);
        FixedPoint.QuantizeMultiplierSmallerThanOneExp(realB, out int multiplierB, out int shiftB);
        FixedPoint.QuantizeMultiplierSmallerThanOneExp(realOutput, out int multiplierOut, out int shiftOut);
        return new Qs8AddParams(leftShift,
            zeroPointA, multiplierA, shiftA,
            zeroPointB, multiplierB, shiftB,
            outputZeroPoint, multiplierOut, shiftOut,
            outputMin, outputMax);
    }

    private static void CheckScale(double scale, string name)
    {
        if (!(scale > 0) || !double.IsFinite(scale))
            throw new ArgumentOutOfRangeException(name, scale, "scale must be positive and finite");
    }
}

/// <summary>Prepared parameters of the int8 global mean.</summary>
public readonly record struct Qs8MeanParams(
    int Batch, int Height, int Width, int Channels,
    int InputZeroPoint, int OutputZeroPoint,
    bool SameQuantization, int Multiplier, int Shift,
    int OutputMin, int OutputMax)
{
    /// <remarks>
    /// SameQuantization when scales and zero points are equal. Multiplier/Shift are
    /// QuantizeMultiplier(inputScale / (outputScale * (height * width))) in either case (only the rescaling path uses
    /// them); the output clamp is the full int8 range.
    /// </remarks>
    public static Qs8MeanParams FromScales(int batch, int height, int width, int channels,
        double inputScale, int inputZeroPoint, double outputScale, int outputZeroPoint)
    {
        if (batch < 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, "must be non-negative");
        if (height <= 0) throw new ArgumentOutOfRangeException(nameof(height), height, "must be positive");
        if (width <= 0) throw new ArgumentOutOfRangeException(nameof(width), width, "must be positive");
        if (channels < 0) throw new ArgumentOutOfRangeException(nameof(channels), channels, "must be non-negative");
        if (!(inputScale > 0) || !double.IsFinite(inputScale))
            throw new ArgumentOutOfRangeException(nameof(inputScale), inputScale, "scale must be positive and finite");
        if (!(outputScale > 0) || !double.IsFinite(outputScale))
            throw new ArgumentOutOfRangeException(nameof(outputScale), outputScale, "scale must be positive and finite");

        bool same = inputScale == outputScale && inputZeroPoint == outputZeroPoint;
        double real = inputScale / (outputScale * ((double)height * width));
        FixedPoint.QuantizeMultiplier(real, out int multiplier, out int shift);
        if (shift > FixedPoint.MaxShift)
            throw new ArgumentOutOfRangeException(nameof(outputScale), outputScale, "output scale too small for the mean");
        return new Qs8MeanParams(batch, height, width, channels, inputZeroPoint, outputZeroPoint, same, multiplier, shift,
            sbyte.MinValue, sbyte.MaxValue);
    }
}

/// <summary>Prepared parameters of TFLite's int8 MEAN over height and width (<see cref="Qs8Reference.Mean"/>).</summary>
public readonly record struct Qs8TfLiteMeanParams(
    int Batch, int Height, int Width, int Channels,
    int InputZeroPoint, int OutputZeroPoint,
    bool SameQuantization, int Multiplier, int Shift)
{
    /// <remarks>
    /// SameQuantization when the float scales and zero points are equal (as TFLite compares them). Otherwise
    /// QuantizeMultiplier((double)inputScale / outputScale) adjusted by <see cref="FixedPoint.MeanMultiplier"/>.
    /// </remarks>
    public static Qs8TfLiteMeanParams FromScales(int batch, int height, int width, int channels,
        float inputScale, int inputZeroPoint, float outputScale, int outputZeroPoint)
    {
        if (batch < 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, "must be non-negative");
        if (height <= 0) throw new ArgumentOutOfRangeException(nameof(height), height, "must be positive");
        if (width <= 0) throw new ArgumentOutOfRangeException(nameof(width), width, "must be positive");
        if (channels < 0) throw new ArgumentOutOfRangeException(nameof(channels), channels, "must be non-negative");
        if (!(inputScale > 0) || !float.IsFinite(inputScale))
            throw new ArgumentOutOfRangeException(nameof(inputScale), inputScale, "scale must be positive and finite");
        if (!(outputScale > 0) || !float.IsFinite(outputScale))
            throw new ArgumentOutOfRangeException(nameof(outputScale), outputScale, "scale must be positive and finite");

        if (inputScale == outputScale && inputZeroPoint == outputZeroPoint)
            return new Qs8TfLiteMeanParams(batch, height, width, channels, inputZeroPoint, outputZeroPoint, true, 0, 0);
        FixedPoint.QuantizeMultiplier((double)inputScale / outputScale, out int multiplier, out int shift);
        if (shift > FixedPoint.MaxShift)
            throw new ArgumentOutOfRangeException(nameof(outputScale), outputScale, "output scale too small for the mean");
        FixedPoint.MeanMultiplier(multiplier, shift, (long)height * width, out int meanMultiplier, out int meanShift);
        return new Qs8TfLiteMeanParams(batch, height, width, channels, inputZeroPoint, outputZeroPoint, false,
            meanMultiplier, meanShift);
    }
}

/// <summary>Prepared parameters of TFLite's int8 SOFTMAX (PreprocessSoftmaxScaling with 5 integer bits).</summary>
public readonly record struct Qs8SoftmaxParams(int InputMultiplier, int InputLeftShift, int DiffMin,
    int OutputZeroPoint)
{
    /// <remarks>
    /// InputMultiplier/InputLeftShift = QuantizeMultiplierGreaterThanOne(min(beta * inputScale * 2^26, 2^31 - 1));
    /// DiffMin = -CalculateInputRadius(5, InputLeftShift). TFLite requires the output to be scale 1/256 with zero
    /// point -128, the default here.
    /// </remarks>
    public static Qs8SoftmaxParams FromScales(double beta, double inputScale, int outputZeroPoint = -128)
    {
        if (!(inputScale > 0) || !double.IsFinite(inputScale))
            throw new ArgumentOutOfRangeException(nameof(inputScale), inputScale, "scale must be positive and finite");
        if (!(beta > 0) || !double.IsFinite(beta))
            throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be positive and finite");

        const int scaledDiffIntegerBits = 5;
        FixedPoint.PreprocessSoftmaxScaling(beta, inputScale, scaledDiffIntegerBits, out int multiplier, out int leftShift);
        int diffMin = -FixedPoint.CalculateInputRadius(scaledDiffIntegerBits, leftShift);
        return new Qs8SoftmaxParams(multiplier, leftShift, diffMin, outputZeroPoint);
    }
}
