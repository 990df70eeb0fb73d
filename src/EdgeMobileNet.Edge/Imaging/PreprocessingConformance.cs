using System.Numerics;
using EdgeMobileNet.Edge.Frames;
using EdgeMobileNet.Format.Model;

namespace EdgeMobileNet.Edge.Imaging;

/// <summary>
/// Checks <see cref="FramePreprocessor"/>'s vector path against its one-pixel-at-a-time reference over generated cases:
/// every frame layout and range, frame and model sizes that leave chunk and vector remainders (and upscale as well as
/// downscale), padded strides, every resize mode, both colour orders and gray, f32 and int8 inputs with quantization at
/// its extremes (saturating scales, zero points -128 and 127). The tensors must be equal bit for bit. Runs in the unit
/// tests and in `edgemobilenet selftest`, so the arm64 binary checks its own vector width under QEMU.
/// </summary>
public static class PreprocessingConformance
{
    private static readonly PixelFormat[] Formats =
        [PixelFormat.Yuyv, PixelFormat.Nv12, PixelFormat.I420, PixelFormat.Rgb24, PixelFormat.Bgr24, PixelFormat.Grey];

    public static List<string> Check(int seed, int cases)
    {
        var failures = new List<string>();
        CheckRounding(failures);
        var random = new Random(seed);
        var frame = new FrameBuffer();
        for (int i = 0; i < cases && failures.Count < 10; i++)
        {
            var format = Formats[i % Formats.Length];
            int width = random.Next(1, 160), height = random.Next(1, 90);
            int stride = FrameBuffer.MinimumStride(format, width) + random.Next(0, 8);
            random.NextBytes(frame.Prepare(format, width, height, stride, FrameBuffer.RequiredBytes(format, width, height, stride)));
            frame.Range = random.Next(2) == 0 ? YuvRange.Limited : YuvRange.Full;
            var (contract, input) = GenerateInput(random);
            var mode = (ResizeMode)random.Next(3);
            string what = $"case {i}: {width}x{height} {format} {frame.Range} stride {stride} -> {contract}, {input.DataType}" +
                (input.Quantization is { } q ? $" scale {q.Scale} zp {q.ZeroPoint}" : "") + $", {mode}";
            var vector = new FramePreprocessor(contract, input, mode);
            var reference = new FramePreprocessor(contract, input, mode, reference: true);
            int n = contract.Width * contract.Height * contract.Channels;
            if (input.DataType == DataType.Int8)
            {
                sbyte[] a = new sbyte[n], b = new sbyte[n];
                vector.WriteInt8(frame, a);
                reference.WriteInt8(frame, b);
                Compare(failures, what, a, b);
            }
            else
            {
                float[] a = new float[n], b = new float[n];
                vector.WriteF32(frame, a);
                reference.WriteF32(frame, b);
                Compare(failures, what, a, b);
            }
            // Equal tensors prove nothing if both came from the reference path.
            if (vector.VectorRowsWritten != contract.Height || reference.VectorRowsWritten != 0)
                failures.Add($"{what}: the vector path wrote {vector.VectorRowsWritten} of {contract.Height} rows, the reference instance {reference.VectorRowsWritten}");
        }
        return failures;
    }

    /// <summary>A model input: 1 to 150 columns (past two chunks), colour in either order or gray, f32 or int8 at extremes.</summary>
    private static (InputContract Contract, TensorDefinition Input) GenerateInput(Random random)
    {
        int channels = random.Next(3) == 0 ? 1 : 3;
        var contract = new InputContract
        {
            Width = random.Next(1, 150),
            Height = random.Next(1, 24),
            Channels = channels,
            ColorOrder = channels == 1 ? ColorOrder.Grayscale : random.Next(2) == 0 ? ColorOrder.Rgb : ColorOrder.Bgr,
            Mean = [.. Enumerable.Range(0, channels).Select(_ => (float)(random.NextDouble() * 255))],
            Std = [.. Enumerable.Range(0, channels).Select(_ => (float)(0.5 + random.NextDouble() * 127))],
        };
        var shape = new[] { 1, contract.Height, contract.Width, channels };
        if (random.Next(3) == 0) return (contract, new TensorDefinition("input", DataType.Float32, shape, null));
        // Scales from saturating most values to squeezing them into a few steps; zero points at both ends.
        float scale = random.Next(4) switch { 0 => 1e-3f, 1 => 2f / 255, 2 => 0.37f, _ => (float)Math.Pow(10, random.NextDouble() * 4 - 3) };
        int zeroPoint = random.Next(4) switch { 0 => -128, 1 => 127, _ => random.Next(-128, 128) };
        return (contract, new TensorDefinition("input", DataType.Int8, shape, QuantizationInfo.PerTensor(scale, zeroPoint)));
    }

    private static void Compare<T>(List<string> failures, string what, T[] vector, T[] reference) where T : IEquatable<T>
    {
        for (int i = 0; i < vector.Length; i++)
        {
            if (vector[i].Equals(reference[i])) continue;
            failures.Add($"{what}: element {i} is {vector[i]} on the vector path, {reference[i]} on the reference");
            return;
        }
    }

    /// <summary>The vector rounding equals MathF.Round away from zero at every half step within the int8 range and one ulp either side.</summary>
    private static void CheckRounding(List<string> failures)
    {
        var values = new List<float>();
        for (int k = -300; k <= 300; k++)
        {
            float half = k + 0.5f;
            values.AddRange([half, MathF.BitDecrement(half), MathF.BitIncrement(half), k, MathF.BitDecrement(k), MathF.BitIncrement(k)]);
        }
        values.AddRange([0f, -0f, 1e-30f, -1e-30f, 8388607.5f, -8388607.5f, 1e9f, -1e9f]);
        int lanes = Vector<float>.Count;
        var buffer = new float[lanes];
        foreach (float v in values)
        {
            Array.Fill(buffer, v);
            float vector = FramePreprocessor.RoundHalfAwayFromZero(new Vector<float>(buffer))[0];
            float scalar = MathF.Round(v, MidpointRounding.AwayFromZero);
            if (vector != scalar) failures.Add($"rounding {v:R}: vector {vector:R}, MathF.Round {scalar:R}");
        }
    }
}
