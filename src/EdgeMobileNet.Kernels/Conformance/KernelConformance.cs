using EdgeMobileNet.Kernels.Dispatch;

namespace EdgeMobileNet.Kernels.Conformance;

/// <summary>
/// Checks a candidate <see cref="KernelSet"/> against the reference set over generated cases:
/// int8 must match bit for bit, fp32 within a relative tolerance (summation order may differ).
/// One method per kernel family; each returns the failures it found (empty = conformant).
/// Used by the xunit tests and by the binary's selftest (which runs where xunit cannot, under QEMU).
/// </summary>
public static class KernelConformance
{
    public const float F32Tolerance = 1e-4f;

    public static IReadOnlyList<(string Family, Func<KernelSet, int, int, List<string>> Check)> Families { get; } =
    [
        ("f32-conv2d-3x3", (k, seed, cases) => F32Convolution(k, seed, cases, 3, depthwise: false)),
        ("f32-conv2d-1x1", (k, seed, cases) => F32Convolution(k, seed, cases, 1, depthwise: false)),
        ("f32-dwconv2d-3x3", (k, seed, cases) => F32Convolution(k, seed, cases, 3, depthwise: true)),
        ("f32-fully-connected", F32FullyConnected),
        ("qs8-conv2d-3x3", (k, seed, cases) => Qs8Convolution(k, seed, cases, 3, depthwise: false)),
        ("qs8-conv2d-1x1", (k, seed, cases) => Qs8Convolution(k, seed, cases, 1, depthwise: false)),
        ("qs8-dwconv2d-3x3", (k, seed, cases) => Qs8Convolution(k, seed, cases, 3, depthwise: true)),
        ("qs8-fully-connected", Qs8FullyConnected),
    ];

    public static List<string> F32Convolution(KernelSet candidate, int seed, int cases, int kernel, bool depthwise)
    {
        var gen = new ConformanceGenerator(seed);
        var failures = new List<string>();
        for (int i = 0; i < cases && failures.Count < 5; i++)
        {
            var g = gen.Convolution(kernel, depthwise ? gen.Random.Next(1, 3) : 0);
            var input = gen.Floats(g.Batch * g.InH * g.InW * g.InC);
            var filter = gen.Floats(depthwise ? g.KernelH * g.KernelW * g.OutC : g.OutC * g.KernelH * g.KernelW * g.InC);
            var bias = gen.Random.Next(4) == 0 ? [] : gen.Floats(g.OutC);
            var (min, max) = gen.Random.Next(3) switch { 0 => (float.NegativeInfinity, float.PositiveInfinity), 1 => (0f, float.PositiveInfinity), _ => (0f, 6f) };
            var expected = new float[g.Batch * g.OutH * g.OutW * g.OutC];
            var actual = new float[expected.Length];
            (depthwise ? KernelSet.Reference.F32DepthwiseConv2D : KernelSet.Reference.F32Conv2D)(g, input, filter, bias, expected, min, max);
            (depthwise ? candidate.F32DepthwiseConv2D : candidate.F32Conv2D)(g, input, filter, bias, actual, min, max);
            CompareF32(expected, actual, g.ToString(), failures);
        }
        return failures;
    }

    public static List<string> F32FullyConnected(KernelSet candidate, int seed, int cases)
    {
        var gen = new ConformanceGenerator(seed);
        var failures = new List<string>();
        for (int i = 0; i < cases && failures.Count < 5; i++)
        {
            int batch = gen.Random.Next(1, 4), depth = gen.Random.Next(1, 300), outputs = gen.Channels();
            var input = gen.Floats(batch * depth);
            var filter = gen.Floats(outputs * depth);
            var bias = gen.Floats(outputs);
            var expected = new float[batch * outputs];
            var actual = new float[expected.Length];
            KernelSet.Reference.F32FullyConnected(batch, depth, outputs, input, filter, bias, expected, float.NegativeInfinity, float.PositiveInfinity);
            candidate.F32FullyConnected(batch, depth, outputs, input, filter, bias, actual, float.NegativeInfinity, float.PositiveInfinity);
            CompareF32(expected, actual, $"batch {batch} depth {depth} outputs {outputs}", failures);
        }
        return failures;
    }

    public static List<string> Qs8Convolution(KernelSet candidate, int seed, int cases, int kernel, bool depthwise)
    {
        var gen = new ConformanceGenerator(seed);
        var failures = new List<string>();
        for (int i = 0; i < cases && failures.Count < 5; i++)
        {
            var g = gen.Convolution(kernel, depthwise ? gen.Random.Next(1, 3) : 0);
            int depth = depthwise ? g.KernelH * g.KernelW : g.KernelH * g.KernelW * g.InC;
            var requant = gen.Requantization(g.OutC, depth);
            int inputZeroPoint = gen.ZeroPoint();
            var input = gen.Int8(g.Batch * g.InH * g.InW * g.InC);
            var filter = gen.Int8(depthwise ? g.KernelH * g.KernelW * g.OutC : g.OutC * g.KernelH * g.KernelW * g.InC, -127, 127);
            var bias = gen.Int32(g.OutC, 1 << 16);
            var expected = new sbyte[g.Batch * g.OutH * g.OutW * g.OutC];
            var actual = new sbyte[expected.Length];
            (depthwise ? KernelSet.Reference.Qs8DepthwiseConv2D : KernelSet.Reference.Qs8Conv2D)(g, inputZeroPoint, requant, input, filter, bias, expected);
            (depthwise ? candidate.Qs8DepthwiseConv2D : candidate.Qs8Conv2D)(g, inputZeroPoint, requant, input, filter, bias, actual);
            CompareExact(expected, actual, $"{g} input zp {inputZeroPoint} output zp {requant.OutputZeroPoint}", failures);
        }
        return failures;
    }

    public static List<string> Qs8FullyConnected(KernelSet candidate, int seed, int cases)
    {
        var gen = new ConformanceGenerator(seed);
        var failures = new List<string>();
        for (int i = 0; i < cases && failures.Count < 5; i++)
        {
            int batch = gen.Random.Next(1, 4), depth = gen.Random.Next(1, 300), outputs = gen.Channels();
            var requant = gen.Requantization(outputs, depth);
            int inputZeroPoint = gen.ZeroPoint();
            var input = gen.Int8(batch * depth);
            var filter = gen.Int8(outputs * depth, -127, 127);
            var bias = gen.Int32(outputs, 1 << 16);
            var expected = new sbyte[batch * outputs];
            var actual = new sbyte[expected.Length];
            KernelSet.Reference.Qs8FullyConnected(batch, depth, outputs, inputZeroPoint, 0, requant, input, filter, bias, expected);
            candidate.Qs8FullyConnected(batch, depth, outputs, inputZeroPoint, 0, requant, input, filter, bias, actual);
            CompareExact(expected, actual, $"batch {batch} depth {depth} outputs {outputs} input zp {inputZeroPoint}", failures);
        }
        return failures;
    }

    private static void CompareF32(float[] expected, float[] actual, string what, List<string> failures)
    {
        for (int j = 0; j < expected.Length; j++)
        {
            float tolerance = F32Tolerance * Math.Max(1f, Math.Abs(expected[j]));
            if (!(Math.Abs(expected[j] - actual[j]) <= tolerance))
            {
                failures.Add($"{what}: element {j} expected {expected[j]} got {actual[j]}");
                return;
            }
        }
    }

    private static void CompareExact(sbyte[] expected, sbyte[] actual, string what, List<string> failures)
    {
        for (int j = 0; j < expected.Length; j++)
        {
            if (expected[j] != actual[j])
            {
                failures.Add($"{what}: element {j} expected {expected[j]} got {actual[j]}");
                return;
            }
        }
    }
}
