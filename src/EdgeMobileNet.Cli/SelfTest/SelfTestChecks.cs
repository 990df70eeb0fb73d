using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using EdgeMobileNet.Format;
using EdgeMobileNet.Format.Io;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Planning;
using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Kernels;
using EdgeMobileNet.Kernels.Conformance;
using EdgeMobileNet.Kernels.Dispatch;
using EdgeMobileNet.Kernels.Quantization;
using EdgeMobileNet.Kernels.Simd;
using EdgeMobileNet.Zoo;

namespace EdgeMobileNet.Cli.SelfTest;

/// <summary>
/// The checks behind 'edgemobilenet selftest'. They run inside the native binary, so they also run
/// on arm64 under QEMU where xunit cannot: integer arithmetic, every kernel set against the
/// reference, the reference against an independent formulation, and whole models end to end.
/// </summary>
public static class SelfTestChecks
{
    public static string CpuDescription() =>
        $"{RuntimeInformation.ProcessArchitecture}: AdvSimd={AdvSimd.IsSupported} Dp={Dp.IsSupported} " +
        $"Sse41={Sse41.IsSupported} Avx2={Avx2.IsSupported} Fma={Fma.IsSupported} Avx512F={Avx512F.IsSupported} " +
        $"AvxVnni={AvxVnni.IsSupported}; Vector<T> {System.Numerics.Vector<byte>.Count * 8} bits (frame preprocessing); {Environment.ProcessorCount} cores";

    public static void RunAll(SelfTestRunner runner, TextWriter output, bool quick, int seed)
    {
        int cases = quick ? 15 : 80;
        runner.Run("fixed-point/multiply-by-quantized-multiplier", () => FixedPointAgainstExactArithmetic(seed, quick ? 20_000 : 200_000));
        runner.Run("fixed-point/quantize-multiplier", () => QuantizeMultiplierReconstructs(seed, quick ? 2_000 : 20_000));
        runner.Run("fixed-point/requantize four lanes (this CPU's path)", () => RequantizeFourMatchesFixedPoint(seed, quick ? 20_000 : 200_000));

        foreach (var (name, depthwise, kernel) in new[] { ("conv2d-3x3", false, 3), ("conv2d-1x1", false, 1), ("dwconv2d-3x3", true, 3) })
        {
            runner.Run($"reference/f32-{name} vs im2col", () => F32ReferenceAgainstIm2Col(seed, cases, kernel, depthwise));
            runner.Run($"reference/qs8-{name} vs im2col", () => Qs8ReferenceAgainstIm2Col(seed, cases, kernel, depthwise));
        }

        var candidates = KernelRegistry.Supported.Where(k => k != KernelSet.Reference).ToList();
        output.WriteLine($"kernel sets on this CPU: {string.Join(", ", KernelRegistry.Supported.Select(k => k.Name))}");
        foreach (var set in candidates)
            foreach (var (family, check) in KernelConformance.Families)
                runner.Run($"kernels/{set.Name}/{family} vs reference", () =>
                    CheckResult.FromFailures(check(set, seed, cases), $"{cases} generated cases match"));
        // The portable twin of the AdvSimd kernels over int8 products, on every CPU: its convolution, FC and depthwise families.
        var twin = SimdKernelSets.Vector128Int8ProductsSet;
        foreach (var (family, check) in KernelConformance.Families.Where(f => f.Family.StartsWith("qs8-conv2d", StringComparison.Ordinal)
                     || f.Family.StartsWith("qs8-dwconv2d", StringComparison.Ordinal) || f.Family == "qs8-fully-connected"))
            runner.Run($"kernels/{twin.Name}/{family} vs reference", () =>
                CheckResult.FromFailures(check(twin, seed, cases), $"{cases} generated cases match"));

        runner.Run("edge/v4l2 + gpiochip struct layouts and ioctl numbers", () => CheckResult.FromFailures(EdgeMobileNet.Edge.V4l2.V4l2Layout.Check(), "sizes, offsets and ioctl numbers match the 64-bit kernel ABI"));
        runner.Run("edge/frame preprocessing vector path vs reference", () =>
            CheckResult.FromFailures(EdgeMobileNet.Edge.Imaging.PreprocessingConformance.Check(seed, 4 * cases), $"{4 * cases} generated frames give the same tensor bit for bit"));
        runner.Run("planner/random lifetimes", () => PlannerNeverOverlapsLiveBuffers(seed, quick ? 50 : 300));

        foreach (var (arch, alpha, resolution) in new[] { ("mobilenet-v1", 0.25f, 128), ("mobilenet-v2", 0.35f, 96) })
        {
            var f32 = arch == "mobilenet-v1" ? MobileNetV1.Build(alpha, resolution, 1000, seed) : MobileNetV2.Build(alpha, resolution, 1000, seed);
            var calibration = PostTrainingQuantizer.SyntheticCalibration(f32, 2, seed + 1).ToList();
            var int8 = PostTrainingQuantizer.Quantize(f32, calibration);
            string tag = $"{arch} {alpha}-{resolution}";
            runner.Run($"model/{tag} f32 file round trip", () => FileRoundTrip(f32));
            runner.Run($"model/{tag} int8 file round trip", () => FileRoundTrip(int8));
            runner.Run($"model/{tag} f32 steady state", () => SteadyState(f32, calibration));
            runner.Run($"model/{tag} int8 steady state", () => SteadyState(int8, calibration));
            runner.Run($"model/{tag} int8 logits track f32", () => Int8TracksF32(f32, int8, calibration));
            if (arch == "mobilenet-v1")
                runner.Run($"format/{tag} int8 mutations", () => MutatedFilesFailCleanly(int8, seed, quick ? 60 : 400));
        }
    }

    /// <summary>MultiplyByQuantizedMultiplier equals exact rational rounding computed with Int128.</summary>
    private static CheckResult FixedPointAgainstExactArithmetic(int seed, int count)
    {
        var random = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            int multiplier = random.Next(4) == 0 ? int.MaxValue - random.Next(3) : random.Next(1 << 30, int.MaxValue);
            int shift = random.Next(-31, 8);
            int limit = shift > 0 ? int.MaxValue >> shift : int.MaxValue;
            int x = random.Next(8) == 0 ? (random.Next(2) == 0 ? limit : -limit) : random.Next(-limit, limit);
            int actual = FixedPoint.MultiplyByQuantizedMultiplier(x, multiplier, shift);
            // Doubling high multiply rounds half up; the power-of-two divide rounds half away from zero.
            Int128 scaled = (Int128)x * (shift > 0 ? 1L << shift : 1) * multiplier;
            Int128 high = FloorDiv(scaled + (Int128.One << 30), Int128.One << 31);
            int right = shift > 0 ? 0 : -shift;
            Int128 expected = right == 0 ? high : RoundHalfAway(high, right);
            if (actual != expected)
                return CheckResult.Fail($"x {x} multiplier {multiplier} shift {shift}: got {actual}, exact rounding gives {expected}");
        }
        return CheckResult.Pass($"{count} random values match exact Int128 rounding");
    }

    /// <summary>
    /// The vector output step (<see cref="Qs8Requantizer.Four"/>: the SSE/portable steps on x64, SQRDMULH and the
    /// SRSHL rounding on ARM) equals <see cref="FixedPoint.MultiplyByQuantizedMultiplier"/> lane by lane: accumulators
    /// anywhere in int32 (its ends, ties of both roundings), multipliers at the ends of their range, every shift.
    /// </summary>
    private static CheckResult RequantizeFourMatchesFixedPoint(int seed, int count)
    {
        var random = new Random(seed);
        int[] multipliers = [1 << 30, (1 << 30) + 1, 3 << 29, int.MaxValue, 0, 1518500250];
        var acc = new int[4];
        Span<int> lanes = stackalloc int[4];
        var full = (Min: Vector128.Create(int.MinValue), Max: Vector128.Create(int.MaxValue));
        for (int i = 0; i < count; i += 4)
        {
            int multiplier = random.Next(3) == 0 ? multipliers[random.Next(multipliers.Length)] : random.Next(1 << 30, int.MaxValue);
            int shift = random.Next(FixedPoint.MinShift, FixedPoint.MaxShift + 1);
            var p = new Qs8ChannelParams(new Qs8OutputParams([multiplier], [shift], 0, -128, 127), 4, 4);
            int limit = shift > 0 ? int.MaxValue >> shift : int.MaxValue;
            for (int l = 0; l < 4; l++)
                acc[l] = random.Next(4) switch
                {
                    0 => random.Next(2) == 0 ? limit : -limit - (shift > 0 ? 0 : 1),
                    1 => random.Next(-64, 65) * (1 << random.Next(0, 24)) + random.Next(-1, 2),
                    2 => random.Next(-4096, 4097),
                    _ => random.Next(-limit, limit),
                };
            Qs8Requantizer.Four(Vector128.Create(acc[0], acc[1], acc[2], acc[3]), p, 0, Vector128<int>.Zero, full.Min, full.Max).CopyTo(lanes);
            for (int l = 0; l < 4; l++)
            {
                int expected = FixedPoint.MultiplyByQuantizedMultiplier(acc[l], multiplier, shift);
                if (lanes[l] != expected)
                    return CheckResult.Fail($"acc {acc[l]} multiplier {multiplier} shift {shift}: vector step gives {lanes[l]}, fixed point {expected}");
            }
        }
        return CheckResult.Pass($"{count} lanes match MultiplyByQuantizedMultiplier");
    }

    private static Int128 FloorDiv(Int128 a, Int128 b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    private static Int128 RoundHalfAway(Int128 value, int bits)
    {
        Int128 divisor = Int128.One << bits;
        Int128 magnitude = (Int128.Abs(value) * 2 + divisor) / (divisor * 2);
        return value < 0 ? -magnitude : magnitude;
    }

    private static CheckResult QuantizeMultiplierReconstructs(int seed, int count)
    {
        var random = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            double real = Math.Pow(2, random.NextDouble() * 40 - 30) * (0.5 + random.NextDouble());
            FixedPoint.QuantizeMultiplier(real, out int multiplier, out int shift);
            double back = multiplier * Math.Pow(2, shift - 31);
            if (multiplier < 1 << 30 || Math.Abs(back - real) > real * Math.Pow(2, -30))
                return CheckResult.Fail($"{real:R} became multiplier {multiplier} shift {shift} = {back:R}");
        }
        return CheckResult.Pass($"{count} multipliers reconstruct within 2^-30");
    }

    private static CheckResult F32ReferenceAgainstIm2Col(int seed, int cases, int kernel, bool depthwise)
    {
        var gen = new ConformanceGenerator(seed + kernel);
        for (int i = 0; i < cases; i++)
        {
            var g = gen.Convolution(kernel, depthwise ? gen.Random.Next(1, 3) : 0);
            var input = gen.Floats(g.Batch * g.InH * g.InW * g.InC);
            var filter = gen.Floats(depthwise ? g.KernelH * g.KernelW * g.OutC : g.OutC * g.KernelH * g.KernelW * g.InC);
            var bias = gen.Floats(g.OutC);
            var (min, max) = i % 2 == 0 ? (float.NegativeInfinity, float.PositiveInfinity) : (0f, 6f);
            var expected = IndependentConvolution.F32(g, input, filter, bias, depthwise, min, max);
            var actual = new float[expected.Length];
            if (depthwise) EdgeMobileNet.Kernels.Reference.F32Reference.DepthwiseConv2D(g, input, filter, bias, actual, min, max);
            else EdgeMobileNet.Kernels.Reference.F32Reference.Conv2D(g, input, filter, bias, actual, min, max);
            for (int j = 0; j < expected.Length; j++)
                if (!(Math.Abs(expected[j] - actual[j]) <= 1e-4f * Math.Max(1f, Math.Abs(expected[j]))))
                    return CheckResult.Fail($"{g}: element {j} reference {actual[j]} im2col {expected[j]}");
        }
        return CheckResult.Pass($"{cases} generated shapes agree");
    }

    private static CheckResult Qs8ReferenceAgainstIm2Col(int seed, int cases, int kernel, bool depthwise)
    {
        var gen = new ConformanceGenerator(seed + 100 + kernel);
        for (int i = 0; i < cases; i++)
        {
            var g = gen.Convolution(kernel, depthwise ? gen.Random.Next(1, 3) : 0);
            var requant = gen.Requantization(g.OutC, depthwise ? 9 : g.KernelH * g.KernelW * g.InC);
            int zeroPoint = gen.ZeroPoint();
            var input = gen.Int8(g.Batch * g.InH * g.InW * g.InC);
            var filter = gen.Int8(depthwise ? g.KernelH * g.KernelW * g.OutC : g.OutC * g.KernelH * g.KernelW * g.InC, -127, 127);
            var bias = gen.Int32(g.OutC, 1 << 16);
            var expected = IndependentConvolution.Qs8(g, input, zeroPoint, filter, bias, requant, depthwise);
            var actual = new sbyte[expected.Length];
            if (depthwise) EdgeMobileNet.Kernels.Reference.Qs8Reference.DepthwiseConv2D(g, zeroPoint, requant, input, filter, bias, actual);
            else EdgeMobileNet.Kernels.Reference.Qs8Reference.Conv2D(g, zeroPoint, requant, input, filter, bias, actual);
            for (int j = 0; j < expected.Length; j++)
                if (expected[j] != actual[j])
                    return CheckResult.Fail($"{g} zp {zeroPoint}: element {j} reference {actual[j]} im2col {expected[j]}");
        }
        return CheckResult.Pass($"{cases} generated shapes match exactly");
    }

    private static CheckResult PlannerNeverOverlapsLiveBuffers(int seed, int rounds)
    {
        var random = new Random(seed);
        for (int r = 0; r < rounds; r++)
        {
            var planner = new MemoryPlanner();
            int n = random.Next(1, 40);
            var buffers = new (long Size, int First, int Last)[n];
            for (int i = 0; i < n; i++)
            {
                int first = random.Next(0, 30);
                buffers[i] = (random.Next(0, 5000), first, first + random.Next(0, 6));
                planner.AddBuffer(buffers[i].Size, buffers[i].First, buffers[i].Last);
            }
            for (int i = 0; i < n; i++)
            {
                long oi = planner.OffsetOf(i);
                if (oi % MemoryPlanner.Alignment != 0 || oi + buffers[i].Size > planner.ArenaSize)
                    return CheckResult.Fail($"round {r}: buffer {i} at {oi} is misaligned or past the arena ({planner.ArenaSize})");
                for (int j = i + 1; j < n; j++)
                {
                    bool live = buffers[i].First <= buffers[j].Last && buffers[j].First <= buffers[i].Last;
                    long oj = planner.OffsetOf(j);
                    bool overlap = oi < oj + buffers[j].Size && oj < oi + buffers[i].Size && buffers[i].Size > 0 && buffers[j].Size > 0;
                    if (live && overlap) return CheckResult.Fail($"round {r}: live buffers {i} and {j} overlap");
                }
            }
            if (planner.ArenaSize > planner.UnplannedSize) return CheckResult.Fail($"round {r}: arena larger than no reuse");
        }
        return CheckResult.Pass($"{rounds} random plans: no live overlap, aligned, never larger than no reuse");
    }

    private static CheckResult FileRoundTrip(ModelDefinition model)
    {
        byte[] first = EmnWriter.Write(model);
        var read = EmnReader.Read(first, "selftest");
        byte[] second = EmnWriter.Write(read);
        return first.AsSpan().SequenceEqual(second)
            ? CheckResult.Pass($"{first.Length} bytes written, read and rewritten identically")
            : CheckResult.Fail($"rewrite differs ({first.Length} vs {second.Length} bytes)");
    }

    /// <summary>Runs are deterministic and allocate nothing once the session exists.</summary>
    private static CheckResult SteadyState(ModelDefinition model, List<float[]> images)
    {
        using var session = InferenceSession.Create(EmnReader.Read(EmnWriter.Write(model), "selftest"));
        FeedImage(session, images[0]);
        session.Run();
        byte[] firstOutput = session.OutputBytes(0).ToArray();
        long allocated = AllocationMeter.SteadyStateBytes(session.Run, callsPerWindow: 3);
        if (allocated != 0) return CheckResult.Fail($"every window of 3 runs allocated, at least {allocated} bytes");
        if (!session.OutputBytes(0).SequenceEqual(firstOutput)) return CheckResult.Fail("the same input gave different outputs");
        return CheckResult.Pass($"arena {session.ArenaBytes} bytes (no reuse: {session.UnplannedBytes}); 0 bytes allocated per run; deterministic");
    }

    /// <summary>The int8 model's dequantized logits correlate with the fp32 model's on the same images.</summary>
    private static CheckResult Int8TracksF32(ModelDefinition f32, ModelDefinition int8, List<float[]> images)
    {
        int logits = f32.Tensors.FindIndex(t => t.Name == "logits");
        using var fs = InferenceSession.Create(f32);
        using var qs = InferenceSession.Create(int8);
        double worst = 1;
        foreach (var image in images)
        {
            FeedImage(fs, image);
            FeedImage(qs, image);
            float[] reference = [];
            fs.RunObserved(i => { if (f32.Operators[i].Outputs[0] == logits) reference = MemoryMarshal.Cast<byte, float>(fs.TensorBytes(logits)).ToArray(); });
            float[] quantized = [];
            var q = int8.Tensors[logits].Quantization!;
            qs.RunObserved(i =>
            {
                if (int8.Operators[i].Outputs[0] != logits) return;
                var raw = MemoryMarshal.Cast<byte, sbyte>(qs.TensorBytes(logits));
                quantized = new float[raw.Length];
                for (int j = 0; j < raw.Length; j++) quantized[j] = q.Scale * (raw[j] - q.ZeroPoint);
            });
            worst = Math.Min(worst, Correlation(reference, quantized));
        }
        return worst >= 0.9
            ? CheckResult.Pass($"logit correlation >= {worst:F4} over {images.Count} images")
            : CheckResult.Fail($"logit correlation {worst:F4} < 0.9");
    }

    private static void FeedImage(InferenceSession session, float[] image)
    {
        var input = session.InputTensor(0);
        if (input.DataType == DataType.Float32)
        {
            image.CopyTo(session.Input<float>(0));
            return;
        }
        var q = input.Quantization!;
        F32Quantize(image, session.Input<sbyte>(0), q.Scale, q.ZeroPoint);
    }

    private static void F32Quantize(float[] values, Span<sbyte> output, float scale, int zeroPoint) =>
        EdgeMobileNet.Kernels.Reference.F32Reference.Quantize(values, output, scale, zeroPoint);

    private static double Correlation(float[] a, float[] b)
    {
        if (a.Length != b.Length || a.Length == 0) return 0;
        double ma = a.Average(), mb = b.Average(), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }
        return saa > 0 && sbb > 0 ? sab / Math.Sqrt(saa * sbb) : 0;
    }

    /// <summary>Corrupted files load and validate cleanly or fail with ModelFormatException: nothing else.</summary>
    private static CheckResult MutatedFilesFailCleanly(ModelDefinition model, int seed, int count)
    {
        byte[] original = EmnWriter.Write(model);
        var random = new Random(seed);
        int rejected = 0;
        for (int i = 0; i < count; i++)
        {
            byte[] bytes = (byte[])original.Clone();
            switch (i % 3)
            {
                case 0:
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    Array.Resize(ref bytes, random.Next(bytes.Length));
                    break;
                default:
                    int at = random.Next(Math.Min(bytes.Length - 4, 4096));
                    BitConverter.TryWriteBytes(bytes.AsSpan(at), random.Next(2) == 0 ? int.MaxValue : random.Next());
                    break;
            }
            try
            {
                using var session = InferenceSession.Create(EmnReader.Read(bytes, $"mutation {i}"));
            }
            catch (ModelFormatException)
            {
                rejected++;
            }
            catch (Exception e)
            {
                return CheckResult.Fail($"mutation {i} ({(i % 3 == 0 ? "bit flip" : i % 3 == 1 ? "truncation" : "overwrite")}) threw {e.GetType().Name}: {e.Message}");
            }
        }
        return CheckResult.Pass($"{count} mutations: {rejected} rejected with a clear error, the rest still valid");
    }
}
