using EdgeMobileNet.Kernels.Dispatch;
using EdgeMobileNet.Kernels.Quantization;
using EdgeMobileNet.Kernels.Reference;

namespace EdgeMobileNet.Kernels.Conformance;

/// <summary>
/// Checks a candidate <see cref="KernelSet"/> against the reference functions over generated cases:
/// int8 must match bit for bit, fp32 within a relative tolerance (summation order may differ).
/// Each case prepares the candidate's kernel once (as a session does at load), runs it over the whole output,
/// and, when it supports row, output-channel or pixel-group ranges, again split into uneven ranges (as worker threads do).
/// One entry per kernel family; each returns the failures it found (empty = conformant).
/// Used by the xunit tests and by the binary's selftest (which runs where xunit cannot, under QEMU).
/// </summary>
public static class KernelConformance
{
    public const float F32Tolerance = 1e-4f;

    /// <summary>How a convolution case's geometry is generated.</summary>
    public enum Shape
    {
        /// <summary>Random size, stride 1/2, dilation, asymmetric padding, depth multiplier 1-2 for depthwise.</summary>
        Random,
        /// <summary>SAME padding, stride 2 (MobileNet's downsampling depthwise layers).</summary>
        SameStride2,
        /// <summary>SAME padding, stride 1.</summary>
        SameStride1,
        /// <summary>3x3 stride 2 SAME over 3 input channels (MobileNet's first layer).</summary>
        FirstLayer,
        /// <summary>1x1 stride 1 unpadded (pointwise layers, the GEMM kernels' shape).</summary>
        Pointwise,
        /// <summary>
        /// SAME padding, stride 1 over 256 or 512 channels or stride 2 over 128 or 256: fp32 pixels a multiple of
        /// 1 KB apart, where the depthwise kernels run pixel pairs instead of sweeping rows (V1's 28x28 to 7x7 layers).
        /// </summary>
        KilobyteStep,
        /// <summary>SAME padding, stride 1 or 2, rows of 15 to 40 output pixels (the fp32 depthwise row sweep).</summary>
        WideRows,
    }

    public static IReadOnlyList<(string Family, Func<KernelSet, int, int, List<string>> Check)> Families { get; } =
    [
        ("f32-conv2d-3x3", (k, seed, cases) => F32Convolution(k, seed, cases, 3, false, Shape.Random)),
        ("f32-conv2d-3x3-s2-first-layer", (k, seed, cases) => F32Convolution(k, seed, cases, 3, false, Shape.FirstLayer)),
        ("f32-conv2d-1x1", (k, seed, cases) => F32Convolution(k, seed, cases, 1, false, Shape.Random)),
        ("f32-conv2d-1x1-pointwise", (k, seed, cases) => F32Convolution(k, seed, cases, 1, false, Shape.Pointwise)),
        ("f32-dwconv2d-3x3", (k, seed, cases) => F32Convolution(k, seed, cases, 3, true, Shape.Random)),
        ("f32-dwconv2d-3x3-s1-same", (k, seed, cases) => F32Convolution(k, seed, cases, 3, true, Shape.SameStride1)),
        ("f32-dwconv2d-3x3-s2-same", (k, seed, cases) => F32Convolution(k, seed, cases, 3, true, Shape.SameStride2)),
        ("f32-dwconv2d-3x3-kilobyte-step", (k, seed, cases) => F32Convolution(k, seed, cases, 3, true, Shape.KilobyteStep)),
        ("f32-dwconv2d-3x3-wide-rows", (k, seed, cases) => F32Convolution(k, seed, cases, 3, true, Shape.WideRows)),
        ("f32-fully-connected", F32FullyConnected),
        ("qs8-conv2d-3x3", (k, seed, cases) => Qs8Convolution(k, seed, cases, 3, false, Shape.Random)),
        ("qs8-conv2d-3x3-s2-first-layer", (k, seed, cases) => Qs8Convolution(k, seed, cases, 3, false, Shape.FirstLayer)),
        ("qs8-conv2d-1x1", (k, seed, cases) => Qs8Convolution(k, seed, cases, 1, false, Shape.Random)),
        ("qs8-conv2d-1x1-pointwise", (k, seed, cases) => Qs8Convolution(k, seed, cases, 1, false, Shape.Pointwise)),
        ("qs8-dwconv2d-3x3", (k, seed, cases) => Qs8Convolution(k, seed, cases, 3, true, Shape.Random)),
        ("qs8-dwconv2d-3x3-s1-same", (k, seed, cases) => Qs8Convolution(k, seed, cases, 3, true, Shape.SameStride1)),
        ("qs8-dwconv2d-3x3-s2-same", (k, seed, cases) => Qs8Convolution(k, seed, cases, 3, true, Shape.SameStride2)),
        ("qs8-fully-connected", Qs8FullyConnected),
        ("qs8-conv2d-1x1-accumulator-limits", (k, seed, cases) => Qs8Convolution(k, seed, cases, 1, false, Shape.Pointwise, accumulatorLimits: true)),
        ("qs8-conv2d-1x1-relu-inputs", (k, seed, cases) => Qs8Convolution(k, seed, cases, 1, false, Shape.Pointwise, reluInputs: true)),
        ("qs8-conv2d-1x1-product-limits", (k, seed, cases) => Qs8Convolution(k, seed, cases, 1, false, Shape.Pointwise, productLimits: true)),
        ("qs8-dwconv2d-3x3-accumulator-limits", (k, seed, cases) => Qs8Convolution(k, seed, cases, 3, true, Shape.SameStride1, accumulatorLimits: true)),
        ("qs8-dwconv2d-3x3-product-limits", (k, seed, cases) => Qs8Convolution(k, seed, cases, 3, true, Shape.SameStride1, productLimits: true)),
        ("f32-add", F32Add),
        ("qs8-add", Qs8Add),
        ("f32-averagepool2d", F32AveragePool),
        ("qs8-averagepool2d", Qs8AveragePool),
        ("f32-global-averagepool", F32GlobalAveragePool),
        ("qs8-global-averagepool", Qs8GlobalAveragePool),
    ];

    private static ConvGeometry Geometry(ConformanceGenerator gen, int kernel, bool depthwise, Shape shape) => shape switch
    {
        Shape.Random => gen.Convolution(kernel, depthwise ? gen.Random.Next(1, 3) : 0),
        Shape.SameStride2 => gen.Same(kernel, 2, 0, depthwise),
        Shape.SameStride1 => gen.Same(kernel, 1, 0, depthwise),
        Shape.Pointwise => gen.Pointwise(),
        Shape.WideRows => gen.SameWideRows(kernel, gen.Random.Next(1, 3), depthwise),
        Shape.KilobyteStep => gen.Random.Next(2) == 0
            ? gen.Same(kernel, 1, 256 << gen.Random.Next(2), depthwise)
            : gen.Same(kernel, 2, 128 << gen.Random.Next(2), depthwise),
        _ => gen.Same(kernel, 2, 3, depthwise),
    };

    public static List<string> F32Convolution(KernelSet candidate, int seed, int cases, int kernel, bool depthwise, Shape shape)
    {
        var gen = new ConformanceGenerator(seed);
        var failures = new List<string>();
        for (int i = 0; i < cases && failures.Count < 5; i++)
        {
            var g = Geometry(gen, kernel, depthwise, shape);
            var input = gen.Floats(g.Batch * g.InH * g.InW * g.InC);
            var filter = gen.Floats(depthwise ? g.KernelH * g.KernelW * g.OutC : g.OutC * g.KernelH * g.KernelW * g.InC);
            var bias = gen.Random.Next(4) == 0 ? [] : gen.Floats(g.OutC);
            var (min, max) = gen.Random.Next(3) switch { 0 => (float.NegativeInfinity, float.PositiveInfinity), 1 => (0f, float.PositiveInfinity), _ => (0f, 6f) };
            var expected = new float[g.Batch * g.OutH * g.OutW * g.OutC];
            if (depthwise) F32Reference.DepthwiseConv2D(g, input, filter, bias, expected, min, max);
            else F32Reference.Conv2D(g, input, filter, bias, expected, min, max);
            var prepared = (depthwise ? candidate.F32DepthwiseConv2D : candidate.F32Conv2D)(g, filter, bias, min, max);
            RunF32(prepared, input, expected, $"{prepared.Name} {g}", failures, gen.Random);
        }
        return failures;
    }

    public static List<string> F32FullyConnected(KernelSet candidate, int seed, int cases)
    {
        var gen = new ConformanceGenerator(seed);
        var failures = new List<string>();
        for (int i = 0; i < cases && failures.Count < 5; i++)
        {
            int batch = gen.Random.Next(1, 6), depth = gen.Random.Next(1, 300), outputs = gen.Channels();
            var input = gen.Floats(batch * depth);
            var filter = gen.Floats(outputs * depth);
            var bias = gen.Random.Next(4) == 0 ? [] : gen.Floats(outputs);
            var (min, max) = gen.Random.Next(2) == 0 ? (float.NegativeInfinity, float.PositiveInfinity) : (0f, 6f);
            var expected = new float[batch * outputs];
            F32Reference.FullyConnected(batch, depth, outputs, input, filter, bias, expected, min, max);
            var prepared = candidate.F32FullyConnected(batch, depth, outputs, filter, bias, min, max);
            RunF32(prepared, input, expected, $"{prepared.Name} batch {batch} depth {depth} outputs {outputs}", failures, gen.Random);
        }
        return failures;
    }

    /// <summary>
    /// int8 convolutions against the reference. <paramref name="accumulatorLimits"/>: accumulators near the int32
    /// limits (biases beyond +-2^30, multipliers near 2^31, right shifts up to 31), where a kernel must not take a
    /// rounding shortcut that would overflow. <paramref name="reluInputs"/>: pointwise layers (depths around and past
    /// 128, where the avx2 set switches GEMMs) over inputs like a ReLU layer's at zero point -128 (<see cref="ReluLike"/>),
    /// and weights over all of int8, -128 included (TFLite's int8 weights stop at -127, other sources need not).
    /// <paramref name="productLimits"/>: inputs and weights at the ends of int8 (<see cref="ExtremeProducts"/>), where two
    /// products summed in int16 (the AdvSimd pointwise GEMM's SMLAL2) reach +-32512, the most that stays exact, or 2^15.
    /// </summary>
    public static List<string> Qs8Convolution(KernelSet candidate, int seed, int cases, int kernel, bool depthwise, Shape shape,
        bool accumulatorLimits = false, bool reluInputs = false, bool productLimits = false)
    {
        var gen = new ConformanceGenerator(seed);
        var failures = new List<string>();
        for (int i = 0; i < cases && failures.Count < 5; i++)
        {
            var g = reluInputs ? gen.PointwiseReluDepth() : Geometry(gen, kernel, depthwise, shape);
            int depth = depthwise ? g.KernelH * g.KernelW : g.KernelH * g.KernelW * g.InC;
            var requant = accumulatorLimits ? gen.LimitRequantization(g.OutC) : gen.Requantization(g.OutC, depth);
            int inputZeroPoint = reluInputs ? -128 : gen.ZeroPoint();
            var input = gen.Int8(g.Batch * g.InH * g.InW * g.InC);
            int filterMin = reluInputs ? -128 : -127;
            var filter = gen.Int8(depthwise ? g.KernelH * g.KernelW * g.OutC : g.OutC * g.KernelH * g.KernelW * g.InC, filterMin, 127);
            if (reluInputs) ReluLike(gen, i, input, filter);
            if (productLimits) ExtremeProducts(gen, i, input, filter);
            var bias = accumulatorLimits ? gen.LimitBias(g.OutC) : gen.Random.Next(6) == 0 ? [] : gen.Bias(g.OutC);
            var expected = new sbyte[g.Batch * g.OutH * g.OutW * g.OutC];
            if (depthwise) Qs8Reference.DepthwiseConv2D(g, inputZeroPoint, requant, input, filter, bias, expected);
            else Qs8Reference.Conv2D(g, inputZeroPoint, requant, input, filter, bias, expected);
            var prepared = (depthwise ? candidate.Qs8DepthwiseConv2D : candidate.Qs8Conv2D)(g, inputZeroPoint, requant, filter, bias);
            RunQs8(prepared, input, expected, $"{prepared.Name} {g} input zp {inputZeroPoint} output zp {requant.OutputZeroPoint}", failures, gen.Random);
        }
        return failures;
    }

    /// <summary>
    /// Case <paramref name="i"/>'s ReLU-like input: a share from 0 to 100 % at or above zero (the rest below), and
    /// every eighth case extremes: every value 127 (x + 128 = 255) against weights all -128 or all 127, or values
    /// within 8 of zero (pairs of x + 128 summing to just under and just over 256) against weights all -128.
    /// </summary>
    private static void ReluLike(ConformanceGenerator gen, int i, sbyte[] input, sbyte[] filter)
    {
        if (i % 8 == 7)
        {
            int variant = i / 8 % 3;
            if (variant == 2) for (int j = 0; j < input.Length; j++) input[j] = (sbyte)gen.Random.Next(-8, 9);
            else Array.Fill(input, sbyte.MaxValue);
            Array.Fill(filter, variant == 1 ? sbyte.MaxValue : sbyte.MinValue);
            return;
        }
        double share = new[] { 0, 0.01, 0.04, 0.06, 0.07, 0.3, 1.0 }[i % 8];
        for (int j = 0; j < input.Length; j++)
            input[j] = (sbyte)(gen.Random.NextDouble() < share ? gen.Random.Next(0, 128) : gen.Random.Next(-128, 0));
    }

    /// <summary>
    /// Case <paramref name="i"/>'s extreme products: one case in three all inputs -128 against all weights -127 or all 127
    /// (each product +-16256, the largest a pair summed in int16 can take twice); one in three all inputs and weights
    /// -128 (products of 2^14: two reach 2^15, so a kernel summing pairs in int16 must not be the one picked); the
    /// rest inputs of -128 or 127 and weights of -127 or 127 drawn at random.
    /// </summary>
    private static void ExtremeProducts(ConformanceGenerator gen, int i, sbyte[] input, sbyte[] filter)
    {
        switch (i % 3)
        {
            case 0:
                Array.Fill(input, sbyte.MinValue);
                Array.Fill(filter, i % 2 == 0 ? (sbyte)-127 : sbyte.MaxValue);
                break;
            case 1:
                Array.Fill(input, sbyte.MinValue);
                Array.Fill(filter, sbyte.MinValue);
                break;
            default:
                for (int j = 0; j < input.Length; j++) input[j] = gen.Random.Next(2) == 0 ? sbyte.MinValue : sbyte.MaxValue;
                for (int j = 0; j < filter.Length; j++) filter[j] = gen.Random.Next(2) == 0 ? (sbyte)-127 : sbyte.MaxValue;
                break;
        }
    }

    public static List<string> Qs8FullyConnected(KernelSet candidate, int seed, int cases)
    {
        var gen = new ConformanceGenerator(seed);
        var failures = new List<string>();
        for (int i = 0; i < cases && failures.Count < 5; i++)
        {
            int batch = gen.Random.Next(1, 6), depth = gen.Random.Next(1, 300), outputs = gen.Channels();
            var requant = gen.Requantization(outputs, depth);
            int inputZeroPoint = gen.ZeroPoint();
            var input = gen.Int8(batch * depth);
            var filter = gen.Int8(outputs * depth, -127, 127);
            var bias = gen.Bias(outputs);
            var expected = new sbyte[batch * outputs];
            Qs8Reference.FullyConnected(batch, depth, outputs, inputZeroPoint, 0, requant, input, filter, bias, expected);
            var prepared = candidate.Qs8FullyConnected(batch, depth, outputs, inputZeroPoint, 0, requant, filter, bias);
            RunQs8(prepared, input, expected, $"{prepared.Name} batch {batch} depth {depth} outputs {outputs} input zp {inputZeroPoint}", failures, gen.Random);
        }
        return failures;
    }

    /// <summary>Element-wise int8 Add: lengths with every remainder mod 8, zero points and clamps at extremes.</summary>
    public static List<string> Qs8Add(KernelSet candidate, int seed, int cases)
    {
        var gen = new ConformanceGenerator(seed);
        var failures = new List<string>();
        for (int i = 0; i < cases && failures.Count < 5; i++)
        {
            int n = i < 16 ? i + 1 : gen.Random.Next(1, 400);
            double scale() => 0.005 + gen.Random.NextDouble() * 0.5;
            int outputZeroPoint = gen.ZeroPoint();
            var (min, max) = FixedPoint.ActivationRange((ActivationKind)gen.Random.Next(3), 0.05f, outputZeroPoint);
            var p = i % 4 == 3 ? RawAddParams(gen, outputZeroPoint, min, max)
                : Qs8AddParams.FromScales(scale(), gen.ZeroPoint(), scale(), gen.ZeroPoint(), scale(), outputZeroPoint, min, max);
            var a = gen.Int8(n);
            var b = gen.Int8(n);
            var expected = new sbyte[n];
            Qs8Reference.Add(p, a, b, expected);
            var actual = new sbyte[n];
            Array.Fill(actual, (sbyte)0x55);
            candidate.Qs8Add(p, a, b, actual);
            CompareExact(expected, actual, $"qs8-add n {n} {p}", failures);
        }
        return failures;
    }

    /// <summary>
    /// ADD parameters no scale gives but a model file may hold: any left shift, multipliers near 2^31 (now and then
    /// int.MinValue, whose doubling high multiply saturates), input and output shifts from -31 to 30.
    /// </summary>
    private static Qs8AddParams RawAddParams(ConformanceGenerator gen, int outputZeroPoint, int min, int max)
    {
        var r = gen.Random;
        int Multiplier() => r.Next(8) == 0 ? int.MinValue : int.MaxValue - r.Next(1 << 24);
        int Shift() => r.Next(FixedPoint.MinShift, FixedPoint.MaxShift + 1);
        return new Qs8AddParams(r.Next(0, 31), gen.ZeroPoint(), Multiplier(), Shift(), gen.ZeroPoint(), Multiplier(), Shift(),
            outputZeroPoint, Multiplier(), Shift(), min, max);
    }

    /// <summary>
    /// Lengths 1..16 (vector remainders), then random up to 400; the activation clamps MobileNet uses; now and then
    /// inputs at the float extremes (sums that overflow to infinity) and NaN, which must pass through the clamp.
    /// </summary>
    public static List<string> F32Add(KernelSet candidate, int seed, int cases)
    {
        var gen = new ConformanceGenerator(seed);
        var failures = new List<string>();
        for (int i = 0; i < cases && failures.Count < 5; i++)
        {
            int n = i < 16 ? i + 1 : gen.Random.Next(1, 400);
            var (min, max) = gen.Random.Next(3) switch { 0 => (float.NegativeInfinity, float.PositiveInfinity), 1 => (0f, float.PositiveInfinity), _ => (0f, 6f) };
            var a = gen.Floats(n, 8f);
            var b = gen.Floats(n, 8f);
            if (i % 5 == 4)
                for (int k = 0; k < n; k += 3)
                    (a[k], b[k]) = gen.Random.Next(3) switch { 0 => (float.MaxValue, float.MaxValue), 1 => (-float.MaxValue, -float.MaxValue), _ => (float.NaN, 1f) };
            var expected = new float[n];
            F32Reference.Add(a, b, expected, min, max);
            var actual = new float[n];
            Array.Fill(actual, 12345f);
            candidate.F32Add(a, b, actual, min, max);
            CompareF32Bits(expected, actual, $"f32-add n {n} clamp [{min}, {max}]", failures);
        }
        return failures;
    }

    /// <summary>Global means over planes of 1..9 x 1..9, channel counts across the vector width and the pooling block.</summary>
    public static List<string> F32GlobalAveragePool(KernelSet candidate, int seed, int cases)
    {
        var gen = new ConformanceGenerator(seed);
        var failures = new List<string>();
        for (int i = 0; i < cases && failures.Count < 5; i++)
        {
            var (batch, h, w, c) = gen.GlobalPoolShape();
            var input = gen.Floats(batch * h * w * c, 4f);
            var expected = new float[batch * c];
            F32Reference.GlobalAveragePool(batch, h, w, c, input, expected);
            var actual = new float[expected.Length];
            Array.Fill(actual, float.NaN);
            candidate.F32GlobalAveragePool(batch, h, w, c, input, actual);
            CompareF32Bits(expected, actual, $"f32-global-averagepool {batch}x{h}x{w}x{c}", failures);
        }
        return failures;
    }

    /// <summary>
    /// The int8 global mean over planes up to 9x9 and 1-600 channels (several pooling blocks), with the input's own
    /// quantization (the rounded-average path) a third of the time, else a rescale to another scale and zero point.
    /// </summary>
    public static List<string> Qs8GlobalAveragePool(KernelSet candidate, int seed, int cases)
    {
        var gen = new ConformanceGenerator(seed);
        var failures = new List<string>();
        for (int i = 0; i < cases && failures.Count < 5; i++)
        {
            var (batch, h, w, c) = gen.GlobalPoolShape();
            int inputZeroPoint = gen.ZeroPoint();
            double inputScale = 0.01 + gen.Random.NextDouble();
            var p = i % 3 == 0
                ? Qs8MeanParams.FromScales(batch, h, w, c, inputScale, inputZeroPoint, inputScale, inputZeroPoint)
                : Qs8MeanParams.FromScales(batch, h, w, c, inputScale, inputZeroPoint, 0.005 + gen.Random.NextDouble() * 0.1, gen.ZeroPoint());
            var input = gen.Int8(batch * h * w * c);
            var expected = new sbyte[batch * c];
            Qs8Reference.GlobalAveragePool(p, input, expected);
            var actual = new sbyte[expected.Length];
            Array.Fill(actual, (sbyte)0x55);
            candidate.Qs8GlobalAveragePool(p, input, actual);
            CompareExact(expected, actual, $"qs8-global-averagepool {batch}x{h}x{w}x{c} {p}", failures);
        }
        return failures;
    }

    /// <summary>
    /// Pooling geometries: a third pool a whole plane (MobileNet's 7x7 average pool, up to 300 channels so several
    /// channel blocks run), the rest SAME 2x2/3x3 windows at stride 1 or 2, whose edge windows hold padding.
    /// </summary>
    private static ConvGeometry PoolGeometry(ConformanceGenerator gen, int i)
    {
        if (i % 3 != 0) return gen.Same(gen.Random.Next(2, 4), gen.Random.Next(1, 3), 0, true);
        int h = gen.Random.Next(1, 9), w = gen.Random.Next(1, 9), c = gen.Random.Next(2) == 0 ? gen.Channels() : gen.Random.Next(1, 300);
        return new ConvGeometry(gen.Random.Next(1, 3), h, w, c, 1, 1, c, h, w, 1, 1, 1, 1, 0, 0, 1);
    }

    public static List<string> F32AveragePool(KernelSet candidate, int seed, int cases)
    {
        var gen = new ConformanceGenerator(seed);
        var failures = new List<string>();
        for (int i = 0; i < cases && failures.Count < 5; i++)
        {
            var g = PoolGeometry(gen, i);
            var input = gen.Floats(g.Batch * g.InH * g.InW * g.InC, 4f);
            var (min, max) = gen.Random.Next(2) == 0 ? (float.NegativeInfinity, float.PositiveInfinity) : (0f, 1f);
            var expected = new float[g.Batch * g.OutH * g.OutW * g.OutC];
            F32Reference.AveragePool2D(g, input, expected, min, max);
            var actual = new float[expected.Length];
            Array.Fill(actual, float.NaN);
            candidate.F32AveragePool2D(g, input, actual, min, max);
            CompareF32(expected, actual, $"f32-averagepool2d {g}", failures);
        }
        return failures;
    }

    public static List<string> Qs8AveragePool(KernelSet candidate, int seed, int cases)
    {
        var gen = new ConformanceGenerator(seed);
        var failures = new List<string>();
        for (int i = 0; i < cases && failures.Count < 5; i++)
        {
            var g = PoolGeometry(gen, i);
            // Saturating inputs now and then: every value at the int8 ends, the window sums at their extremes.
            var input = i % 4 == 1 ? Enumerable.Range(0, g.Batch * g.InH * g.InW * g.InC).Select(k => (sbyte)(k % 2 == 0 ? -128 : 127)).ToArray()
                : i % 4 == 2 ? Enumerable.Repeat((sbyte)-128, g.Batch * g.InH * g.InW * g.InC).ToArray()
                : gen.Int8(g.Batch * g.InH * g.InW * g.InC);
            int min = gen.Random.Next(2) == 0 ? -128 : gen.Random.Next(-128, 0), max = gen.Random.Next(2) == 0 ? 127 : gen.Random.Next(0, 128);
            var expected = new sbyte[g.Batch * g.OutH * g.OutW * g.OutC];
            Qs8Reference.AveragePool2D(g, min, max, input, expected);
            var actual = new sbyte[expected.Length];
            Array.Fill(actual, (sbyte)0x55);
            candidate.Qs8AveragePool2D(g, min, max, input, actual);
            CompareExact(expected, actual, $"qs8-averagepool2d {g} clamp [{min}, {max}]", failures);
        }
        return failures;
    }

    private static void RunF32(F32ConvolutionKernel kernel, float[] input, float[] expected, string what,
        List<string> failures, Random random)
    {
        var actual = new float[expected.Length];
        Array.Fill(actual, float.NaN);
        kernel.Run(input, actual);
        if (!CompareF32(expected, actual, what, failures)) return;
        if (kernel.SupportsRowRanges && kernel.Rows > 1)
        {
            Array.Fill(actual, float.NaN);
            foreach (var (first, count) in Split(kernel.Rows, random)) kernel.Run(input, actual, first, count);
            CompareF32(expected, actual, what + " (row ranges)", failures);
        }
        if (kernel.ColumnBlocks > 1)
        {
            Array.Fill(actual, float.NaN);
            foreach (var (first, count) in Split(kernel.ColumnBlocks, random)) kernel.RunColumns(input, actual, first, count);
            CompareF32(expected, actual, what + " (output-channel ranges)", failures);
        }
        if (kernel.PixelGroups > 1)
        {
            Array.Fill(actual, float.NaN);
            foreach (var (first, count) in Split(kernel.PixelGroups, random)) kernel.RunPixelGroups(input, actual, first, count);
            CompareF32(expected, actual, what + " (pixel-group ranges)", failures);
        }
    }

    private static void RunQs8(Qs8ConvolutionKernel kernel, sbyte[] input, sbyte[] expected, string what,
        List<string> failures, Random random)
    {
        var actual = new sbyte[expected.Length];
        Array.Fill(actual, (sbyte)0x55);
        kernel.Run(input, actual);
        if (!CompareExact(expected, actual, what, failures)) return;
        if (kernel.SupportsRowRanges && kernel.Rows > 1)
        {
            Array.Fill(actual, (sbyte)0x55);
            foreach (var (first, count) in Split(kernel.Rows, random)) kernel.Run(input, actual, first, count);
            CompareExact(expected, actual, what + " (row ranges)", failures);
        }
        if (kernel.ColumnBlocks > 1)
        {
            Array.Fill(actual, (sbyte)0x55);
            foreach (var (first, count) in Split(kernel.ColumnBlocks, random)) kernel.RunColumns(input, actual, first, count);
            CompareExact(expected, actual, what + " (output-channel ranges)", failures);
        }
        if (kernel.PixelGroups > 1)
        {
            Array.Fill(actual, (sbyte)0x55);
            foreach (var (first, count) in Split(kernel.PixelGroups, random)) kernel.RunPixelGroups(input, actual, first, count);
            CompareExact(expected, actual, what + " (pixel-group ranges)", failures);
        }
    }

    /// <summary>Uneven row ranges covering [0, rows), in reverse order (as a racing worker might).</summary>
    private static List<(int First, int Count)> Split(int rows, Random random)
    {
        var cuts = new SortedSet<int> { 0, rows };
        int n = random.Next(1, Math.Min(rows, 4));
        for (int i = 0; i < n; i++) cuts.Add(random.Next(1, rows));
        var list = cuts.ToList();
        var ranges = new List<(int, int)>();
        for (int i = list.Count - 2; i >= 0; i--) ranges.Add((list[i], list[i + 1] - list[i]));
        return ranges;
    }

    private static bool CompareF32(float[] expected, float[] actual, string what, List<string> failures)
    {
        for (int j = 0; j < expected.Length; j++)
        {
            float tolerance = F32Tolerance * Math.Max(1f, Math.Abs(expected[j]));
            if (!(Math.Abs(expected[j] - actual[j]) <= tolerance))
            {
                failures.Add($"{what}: element {j} expected {expected[j]} got {actual[j]}");
                return false;
            }
        }
        return true;
    }

    /// <summary>For kernels that compute exactly the reference's operations in its order: the same bits (any NaN for NaN).</summary>
    private static bool CompareF32Bits(float[] expected, float[] actual, string what, List<string> failures)
    {
        for (int j = 0; j < expected.Length; j++)
        {
            bool same = float.IsNaN(expected[j]) ? float.IsNaN(actual[j])
                : BitConverter.SingleToInt32Bits(expected[j]) == BitConverter.SingleToInt32Bits(actual[j]);
            if (!same)
            {
                failures.Add($"{what}: element {j} expected {expected[j]} got {actual[j]}");
                return false;
            }
        }
        return true;
    }

    private static bool CompareExact(sbyte[] expected, sbyte[] actual, string what, List<string> failures)
    {
        for (int j = 0; j < expected.Length; j++)
        {
            if (expected[j] != actual[j])
            {
                failures.Add($"{what}: element {j} expected {expected[j]} got {actual[j]}");
                return false;
            }
        }
        return true;
    }
}
