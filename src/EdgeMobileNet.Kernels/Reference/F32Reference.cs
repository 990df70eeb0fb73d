namespace EdgeMobileNet.Kernels.Reference;

/// <summary>
/// Scalar, readable fp32 reference kernels: the oracle every optimized fp32 kernel is checked against.
/// All tensors are NHWC and dense. Fused activations are given as an output clamp [outputMin, outputMax]
/// (None = [-inf, inf], Relu = [0, inf], Relu6 = [0, 6]).
/// </summary>
/// <remarks>
/// Span lengths must match the geometry exactly (ArgumentException otherwise). Accumulation is in float in
/// the TFLite reference order (taps in ky, kx, channel order, bias added last, then the clamp).
/// </remarks>
public static class F32Reference
{
    /// <summary>filter [OutC, KernelH, KernelW, InC], bias [OutC] (may be empty = zero).</summary>
    public static void Conv2D(in ConvGeometry g, ReadOnlySpan<float> input, ReadOnlySpan<float> filter,
        ReadOnlySpan<float> bias, Span<float> output, float outputMin, float outputMax)
    {
        ReferenceChecks.Geometry(g, nameof(g));
        ReferenceChecks.Length(input.Length, ReferenceChecks.InputElements(g), nameof(input));
        ReferenceChecks.Length(filter.Length, ReferenceChecks.ConvFilterElements(g), nameof(filter));
        ReferenceChecks.OptionalLength(bias.Length, g.OutC, nameof(bias));
        ReferenceChecks.Length(output.Length, ReferenceChecks.OutputElements(g), nameof(output));
        ReferenceChecks.Range(outputMin, outputMax);

        for (int b = 0; b < g.Batch; b++)
        for (int oy = 0; oy < g.OutH; oy++)
        for (int ox = 0; ox < g.OutW; ox++)
        for (int oc = 0; oc < g.OutC; oc++)
        {
            float sum = 0f;
            for (int ky = 0; ky < g.KernelH; ky++)
            {
                int iy = oy * g.StrideH - g.PadTop + ky * g.DilationH;
                if (iy < 0 || iy >= g.InH) continue; // zero padding contributes nothing
                for (int kx = 0; kx < g.KernelW; kx++)
                {
                    int ix = ox * g.StrideW - g.PadLeft + kx * g.DilationW;
                    if (ix < 0 || ix >= g.InW) continue;
                    int inBase = ((b * g.InH + iy) * g.InW + ix) * g.InC;
                    int filterBase = ((oc * g.KernelH + ky) * g.KernelW + kx) * g.InC;
                    for (int ic = 0; ic < g.InC; ic++)
                        sum += input[inBase + ic] * filter[filterBase + ic];
                }
            }

            if (!bias.IsEmpty) sum += bias[oc];
            output[((b * g.OutH + oy) * g.OutW + ox) * g.OutC + oc] = Clamp(sum, outputMin, outputMax);
        }
    }

    /// <summary>filter [1, KernelH, KernelW, OutC] with OutC = InC * DepthMultiplier, bias [OutC] (may be empty).</summary>
    public static void DepthwiseConv2D(in ConvGeometry g, ReadOnlySpan<float> input, ReadOnlySpan<float> filter,
        ReadOnlySpan<float> bias, Span<float> output, float outputMin, float outputMax)
    {
        ReferenceChecks.DepthwiseGeometry(g, nameof(g));
        ReferenceChecks.Length(input.Length, ReferenceChecks.InputElements(g), nameof(input));
        ReferenceChecks.Length(filter.Length, ReferenceChecks.DepthwiseFilterElements(g), nameof(filter));
        ReferenceChecks.OptionalLength(bias.Length, g.OutC, nameof(bias));
        ReferenceChecks.Length(output.Length, ReferenceChecks.OutputElements(g), nameof(output));
        ReferenceChecks.Range(outputMin, outputMax);

        for (int b = 0; b < g.Batch; b++)
        for (int oy = 0; oy < g.OutH; oy++)
        for (int ox = 0; ox < g.OutW; ox++)
        for (int oc = 0; oc < g.OutC; oc++)
        {
            int ic = oc / g.DepthMultiplier; // each input channel feeds DepthMultiplier consecutive outputs
            float sum = 0f;
            for (int ky = 0; ky < g.KernelH; ky++)
            {
                int iy = oy * g.StrideH - g.PadTop + ky * g.DilationH;
                if (iy < 0 || iy >= g.InH) continue;
                for (int kx = 0; kx < g.KernelW; kx++)
                {
                    int ix = ox * g.StrideW - g.PadLeft + kx * g.DilationW;
                    if (ix < 0 || ix >= g.InW) continue;
                    sum += input[((b * g.InH + iy) * g.InW + ix) * g.InC + ic]
                        * filter[(ky * g.KernelW + kx) * g.OutC + oc];
                }
            }

            if (!bias.IsEmpty) sum += bias[oc];
            output[((b * g.OutH + oy) * g.OutW + ox) * g.OutC + oc] = Clamp(sum, outputMin, outputMax);
        }
    }

    /// <summary>input [batch, inputDepth], filter [outputDepth, inputDepth], bias [outputDepth] (may be empty).</summary>
    public static void FullyConnected(int batch, int inputDepth, int outputDepth, ReadOnlySpan<float> input,
        ReadOnlySpan<float> filter, ReadOnlySpan<float> bias, Span<float> output, float outputMin, float outputMax)
    {
        ReferenceChecks.NonNegative(batch, nameof(batch));
        ReferenceChecks.NonNegative(inputDepth, nameof(inputDepth));
        ReferenceChecks.NonNegative(outputDepth, nameof(outputDepth));
        ReferenceChecks.Length(input.Length, (long)batch * inputDepth, nameof(input));
        ReferenceChecks.Length(filter.Length, (long)outputDepth * inputDepth, nameof(filter));
        ReferenceChecks.OptionalLength(bias.Length, outputDepth, nameof(bias));
        ReferenceChecks.Length(output.Length, (long)batch * outputDepth, nameof(output));
        ReferenceChecks.Range(outputMin, outputMax);

        for (int b = 0; b < batch; b++)
        for (int o = 0; o < outputDepth; o++)
        {
            float sum = 0f;
            for (int d = 0; d < inputDepth; d++)
                sum += input[b * inputDepth + d] * filter[o * inputDepth + d];
            if (!bias.IsEmpty) sum += bias[o];
            output[b * outputDepth + o] = Clamp(sum, outputMin, outputMax);
        }
    }

    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> output, float outputMin, float outputMax)
    {
        ReferenceChecks.Length(b.Length, a.Length, nameof(b));
        ReferenceChecks.Length(output.Length, a.Length, nameof(output));
        ReferenceChecks.Range(outputMin, outputMax);

        for (int i = 0; i < a.Length; i++)
            output[i] = Clamp(a[i] + b[i], outputMin, outputMax);
    }

    /// <summary>Average over the window; padded positions are not counted (TFLite semantics). OutC == InC.</summary>
    /// <remarks>A window lying entirely in the padding has no average: ArgumentException (TFLite fails Eval).</remarks>
    public static void AveragePool2D(in ConvGeometry g, ReadOnlySpan<float> input, Span<float> output,
        float outputMin, float outputMax)
    {
        ReferenceChecks.PoolGeometry(g, nameof(g));
        ReferenceChecks.Length(input.Length, ReferenceChecks.InputElements(g), nameof(input));
        ReferenceChecks.Length(output.Length, ReferenceChecks.OutputElements(g), nameof(output));
        ReferenceChecks.Range(outputMin, outputMax);

        for (int b = 0; b < g.Batch; b++)
        for (int oy = 0; oy < g.OutH; oy++)
        for (int ox = 0; ox < g.OutW; ox++)
        for (int c = 0; c < g.OutC; c++)
        {
            float sum = 0f;
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

            output[((b * g.OutH + oy) * g.OutW + ox) * g.OutC + c] = Clamp(sum / count, outputMin, outputMax);
        }
    }

    /// <summary>input [batch, height, width, channels] to output [batch, channels]: mean over height and width.</summary>
    public static void GlobalAveragePool(int batch, int height, int width, int channels, ReadOnlySpan<float> input,
        Span<float> output)
    {
        ReferenceChecks.GlobalPool(batch, height, width, channels, input.Length, output.Length);

        for (int b = 0; b < batch; b++)
        for (int c = 0; c < channels; c++)
        {
            float sum = 0f;
            for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                sum += input[((b * height + y) * width + x) * channels + c];
            output[b * channels + c] = sum / (height * width);
        }
    }

    /// <summary>Softmax over the last axis of [rows, depth]: exp(beta * (x - max)) normalized.</summary>
    public static void Softmax(int rows, int depth, float beta, ReadOnlySpan<float> input, Span<float> output)
    {
        ReferenceChecks.RowsOfDepth(rows, depth, input.Length, output.Length);

        for (int r = 0; r < rows; r++)
        {
            var x = input.Slice(r * depth, depth);
            var y = output.Slice(r * depth, depth);

            // Subtracting the max keeps exp() in range without changing the result.
            float max = float.MinValue;
            for (int c = 0; c < depth; c++) max = Math.Max(max, x[c]);

            float sum = 0f;
            for (int c = 0; c < depth; c++)
            {
                float e = MathF.Exp((x[c] - max) * beta);
                y[c] = e; // output doubles as scratch (it may alias the input: x[c] is not read again)
                sum += e;
            }

            for (int c = 0; c < depth; c++) y[c] /= sum;
        }
    }

    /// <summary>q = clamp(round_half_away(x / scale) + zeroPoint, -128, 127) (TFLite AffineQuantize).</summary>
    /// <remarks>The division is in float, as in TFLite. NaN quantizes to the (clamped) zero point.</remarks>
    public static void Quantize(ReadOnlySpan<float> input, Span<sbyte> output, float scale, int zeroPoint)
    {
        ReferenceChecks.Length(output.Length, input.Length, nameof(output));
        if (!(scale > 0f) || !float.IsFinite(scale))
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "scale must be positive and finite");

        for (int i = 0; i < input.Length; i++)
        {
            float rounded = MathF.Round(input[i] / scale, MidpointRounding.AwayFromZero);
            // Add and clamp in double so that huge values (and infinities) cannot overflow an int conversion.
            double q = float.IsNaN(rounded) ? zeroPoint : (double)rounded + zeroPoint;
            output[i] = (sbyte)Math.Clamp(q, sbyte.MinValue, sbyte.MaxValue);
        }
    }

    /// <summary>x = scale * (q - zeroPoint).</summary>
    public static void Dequantize(ReadOnlySpan<sbyte> input, Span<float> output, float scale, int zeroPoint)
    {
        ReferenceChecks.Length(output.Length, input.Length, nameof(output));
        for (int i = 0; i < input.Length; i++)
            output[i] = scale * (input[i] - zeroPoint); // float product, like TFLite
    }

    /// <summary>
    /// min(max(x, lo), hi) as TFLite's ActivationFunctionWithMinMax, the activation clamp every fp32 kernel applies:
    /// comparisons, so NaN passes through and -0 stays -0.
    /// </summary>
    internal static float Clamp(float x, float lo, float hi) => x < lo ? lo : x > hi ? hi : x;
}

/// <summary>Cheap argument validation shared by the reference kernels. Throws only; never allocates otherwise.</summary>
internal static class ReferenceChecks
{
    public static void Length(int actual, long expected, string name)
    {
        if (actual != expected)
            throw new ArgumentException($"{name} has {actual} elements, expected {expected}", name);
    }

    /// <summary>Empty (meaning zero) or exactly <paramref name="expected"/> elements.</summary>
    public static void OptionalLength(int actual, int expected, string name)
    {
        if (actual != 0 && actual != expected)
            throw new ArgumentException($"{name} has {actual} elements, expected 0 or {expected}", name);
    }

    public static void NonNegative(int value, string name)
    {
        if (value < 0) throw new ArgumentOutOfRangeException(name, value, "must be non-negative");
    }

    public static void Positive(int value, string name)
    {
        if (value <= 0) throw new ArgumentOutOfRangeException(name, value, "must be positive");
    }

    /// <summary>A [batch, height, width, channels] input averaged to [batch, channels].</summary>
    public static void GlobalPool(int batch, int height, int width, int channels, int inputLength, int outputLength)
    {
        NonNegative(batch, nameof(batch));
        Positive(height, nameof(height));
        Positive(width, nameof(width));
        NonNegative(channels, nameof(channels));
        Length(inputLength, (long)batch * height * width * channels, "input");
        Length(outputLength, (long)batch * channels, "output");
    }

    /// <summary>A [rows, depth] input and output (softmax).</summary>
    public static void RowsOfDepth(int rows, int depth, int inputLength, int outputLength)
    {
        NonNegative(rows, nameof(rows));
        NonNegative(depth, nameof(depth));
        Length(inputLength, (long)rows * depth, "input");
        Length(outputLength, (long)rows * depth, "output");
    }

    public static void Range(float min, float max)
    {
        if (float.IsNaN(min) || float.IsNaN(max) || min > max)
            throw new ArgumentException($"output clamp [{min}, {max}] is not a range", "outputMin");
    }

    public static void Int8Range(int min, int max, string name)
    {
        if (min < sbyte.MinValue || max > sbyte.MaxValue || min > max)
            throw new ArgumentException($"output clamp [{min}, {max}] is not a range inside [-128, 127]", name);
    }

    public static long InputElements(in ConvGeometry g) => (long)g.Batch * g.InH * g.InW * g.InC;

    public static long OutputElements(in ConvGeometry g) => (long)g.Batch * g.OutH * g.OutW * g.OutC;

    public static long ConvFilterElements(in ConvGeometry g) => (long)g.OutC * g.KernelH * g.KernelW * g.InC;

    public static long DepthwiseFilterElements(in ConvGeometry g) => (long)g.KernelH * g.KernelW * g.OutC;

    /// <summary>Extents non-negative, kernel/stride/dilation positive, padding non-negative, sizes fit in int.</summary>
    public static void Geometry(in ConvGeometry g, string name)
    {
        if (g.Batch < 0 || g.InH < 0 || g.InW < 0 || g.InC < 0 || g.OutH < 0 || g.OutW < 0 || g.OutC < 0)
            throw new ArgumentException($"negative extent in {g}", name);
        if (g.KernelH <= 0 || g.KernelW <= 0 || g.StrideH <= 0 || g.StrideW <= 0 || g.DilationH <= 0 || g.DilationW <= 0)
            throw new ArgumentException($"kernel, stride and dilation must be positive in {g}", name);
        if (g.PadTop < 0 || g.PadLeft < 0)
            throw new ArgumentException($"negative padding in {g}", name);
        if (InputElements(g) > int.MaxValue || OutputElements(g) > int.MaxValue
            || (long)g.OutC * g.KernelH * g.KernelW * Math.Max(g.InC, 1) > int.MaxValue)
            throw new ArgumentException($"tensor too large in {g}", name);
    }

    public static void DepthwiseGeometry(in ConvGeometry g, string name)
    {
        Geometry(g, name);
        if (g.DepthMultiplier <= 0 || (long)g.InC * g.DepthMultiplier != g.OutC)
            throw new ArgumentException($"depthwise needs OutC == InC * DepthMultiplier (> 0) in {g}", name);
    }

    /// <summary>Pooling: OutC == InC and every window must see at least one real input pixel.</summary>
    public static void PoolGeometry(in ConvGeometry g, string name)
    {
        Geometry(g, name);
        if (g.OutC != g.InC)
            throw new ArgumentException($"pooling needs OutC == InC in {g}", name);
        if (g.Batch == 0 || g.OutC == 0) return;
        for (int oy = 0; oy < g.OutH; oy++)
            if (!AnyTapInside(oy, g.StrideH, g.PadTop, g.KernelH, g.DilationH, g.InH))
                throw new ArgumentException($"output row {oy} pools only padding in {g}", name);
        for (int ox = 0; ox < g.OutW; ox++)
            if (!AnyTapInside(ox, g.StrideW, g.PadLeft, g.KernelW, g.DilationW, g.InW))
                throw new ArgumentException($"output column {ox} pools only padding in {g}", name);
    }

    private static bool AnyTapInside(int o, int stride, int pad, int kernel, int dilation, int extent)
    {
        for (int k = 0; k < kernel; k++)
        {
            long i = (long)o * stride - pad + (long)k * dilation;
            if (i >= 0 && i < extent) return true;
        }
        return false;
    }
}
