using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Edge.Frames;
using EdgeMobileNet.Edge.Imaging;
using EdgeMobileNet.Format.Model;
using Xunit;
using Xunit.Abstractions;
using static EdgeMobileNet.Tests.Edge.EdgeTestSupport;

namespace EdgeMobileNet.Tests.Edge;

public class PixelConversionTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FixedPointYuvIsWithinOneOfExactBt601(bool full)
    {
        int worst = 0;
        for (int y = 0; y < 256; y += 3)
        for (int u = 0; u < 256; u += 5)
        for (int v = 0; v < 256; v += 5)
        {
            YuvConversion.ToRgb(y, u, v, full, out int r, out int g, out int b);
            var (er, eg, eb) = YuvToRgbExact(y, u, v, full);
            worst = Math.Max(worst, Math.Max(Math.Abs(r - Sat(er)), Math.Max(Math.Abs(g - Sat(eg)), Math.Abs(b - Sat(eb)))));
        }
        Assert.True(worst <= 1, $"worst difference {worst}");
    }

    [Fact]
    public void LimitedRangeBlackAndWhiteMapToFullRange()
    {
        YuvConversion.ToRgb(16, 128, 128, false, out int r, out int g, out int b);
        Assert.Equal((0, 0, 0), (r, g, b));
        YuvConversion.ToRgb(235, 128, 128, false, out r, out g, out b);
        Assert.Equal((255, 255, 255), (r, g, b));
        Assert.Equal(255, YuvConversion.LumaToGray(235, false));
        Assert.Equal(0, YuvConversion.LumaToGray(16, false));
        Assert.Equal(100, YuvConversion.LumaToGray(100, true));
    }

    [Fact]
    public void ReaderDecodesEveryPixelOfEveryFormatLikeTheReference()
    {
        const int w = 13, h = 9; // odd sizes: chroma of the last column/row
        var rgb = PatternRgb(w, h);
        foreach (var format in new[] { PixelFormat.Yuyv, PixelFormat.Nv12, PixelFormat.I420, PixelFormat.Rgb24, PixelFormat.Bgr24, PixelFormat.Grey })
        foreach (bool full in new[] { false, true })
        {
            var frame = Encode(rgb, w, h, format, full, padding: 6);
            var reference = ReferenceImage(frame, 3);
            var reader = new FramePixelReader(frame);
            for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                reader.Read(x, y, out int r, out int g, out int b);
                int o = (y * w + x) * 3;
                Assert.True(Math.Abs(r - reference.Pixels[o]) <= 1 && Math.Abs(g - reference.Pixels[o + 1]) <= 1 && Math.Abs(b - reference.Pixels[o + 2]) <= 1,
                    $"{format} full={full} ({x},{y}): ({r},{g},{b}) vs ({reference.Pixels[o]},{reference.Pixels[o + 1]},{reference.Pixels[o + 2]})");
            }
        }
    }

    public static TheoryData<PixelFormat, bool, DataType, int, ColorOrder> Cases()
    {
        var data = new TheoryData<PixelFormat, bool, DataType, int, ColorOrder>();
        foreach (var format in new[] { PixelFormat.Yuyv, PixelFormat.Nv12, PixelFormat.I420, PixelFormat.Rgb24, PixelFormat.Bgr24, PixelFormat.Grey })
        {
            data.Add(format, false, DataType.Int8, 3, ColorOrder.Rgb);
            data.Add(format, true, DataType.Float32, 3, ColorOrder.Bgr);
            data.Add(format, false, DataType.Int8, 1, ColorOrder.Grayscale);
        }
        return data;
    }

    /// <summary>A 50x34 frame (padded rows) of a colour pattern, and a 20x16 model input of the case's type and channels.</summary>
    private static (InputContract Contract, TensorDefinition Input, FrameBuffer Frame) Case(PixelFormat format, bool full,
        DataType type, int channels, ColorOrder order)
    {
        const int w = 50, h = 34, mw = 20, mh = 16;
        var contract = new InputContract { Width = mw, Height = mh, Channels = channels, ColorOrder = order };
        if (channels == 1) { contract.Mean = [127.5f]; contract.Std = [127.5f]; }
        var quant = type == DataType.Int8 ? QuantizationInfo.PerTensor(2f / 255, -1) : null;
        var input = new TensorDefinition("input", type, [1, mh, mw, channels], quant);
        return (contract, input, Encode(PatternRgb(w, h, 3), w, h, format, full, padding: 4));
    }

    /// <summary>
    /// Fused frame -> tensor equals the straightforward path. Gray: convert the whole frame to gray, then
    /// the existing ImagePreprocessor (crop, bilinear, normalize/quantize). Colour: the fused pass
    /// interpolates the stored components and converts once, so the reference does the same with
    /// independent code: ImagePreprocessor interpolates the frame's Y, U, V (or R, G, B) planes, then the
    /// exact real-valued BT.601 formulas convert, and the contract normalizes/quantizes. Fixed point vs
    /// real arithmetic may differ by one int8 step.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void FusedPreprocessingMatchesConvertThenResize(PixelFormat format, bool full, DataType type, int channels, ColorOrder order)
    {
        var (contract, input, frame) = Case(format, full, type, channels, order);
        var quant = input.Quantization;
        int mw = contract.Width, mh = contract.Height;
        var fused = new FramePreprocessor(contract, input);
        int n = mw * mh * channels;
        var expected = channels == 1 ? GrayReference(frame, contract, input) : ColourReference(frame, contract, format, full);
        if (type == DataType.Int8)
        {
            var a = new sbyte[n];
            fused.WriteInt8(frame, a);
            for (int i = 0; i < n; i++)
            {
                double q = Math.Clamp(Math.Round(expected[i] / quant!.Scale + quant.ZeroPoint, MidpointRounding.AwayFromZero), -128, 127);
                Assert.True(Math.Abs(a[i] - q) <= 1, $"{format} element {i}: {a[i]} vs {q}");
            }
        }
        else
        {
            var a = new float[n];
            fused.WriteF32(frame, a);
            for (int i = 0; i < n; i++) Assert.True(Math.Abs(a[i] - expected[i]) <= 1.01f / 127.5f, $"{format} element {i}: {a[i]} vs {expected[i]}");
        }
    }

    /// <summary>
    /// Rows shared out over a session's threads (as the edge loop does) give the same tensor as one thread, for every
    /// layout, both sinks and every resize mode (letterbox rows and columns are padding).
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void RowsOnSessionThreadsGiveTheSameTensor(PixelFormat format, bool full, DataType type, int channels, ColorOrder order)
    {
        var (contract, input, frame) = Case(format, full, type, channels, order);
        int mw = contract.Width, mh = contract.Height;
        using var session = InferenceSession.Create(SmallModels.F32, new SessionOptions { Threads = 3, MinParallelMultAdds = 0 });
        Assert.Equal(3, session.Threads);
        int n = mw * mh * channels;
        foreach (var mode in new[] { ResizeMode.Crop, ResizeMode.Stretch, ResizeMode.Letterbox })
        {
            var pre = new FramePreprocessor(contract, input, mode);
            for (int repeat = 0; repeat < 3; repeat++) // the second and third reuse the row work
            {
                long ranges = pre.RowRangesRun;
                if (type == DataType.Int8)
                {
                    var one = new sbyte[n];
                    var shared = new sbyte[n];
                    pre.WriteInt8(frame, one);
                    pre.WriteInt8(frame, shared, session);
                    Assert.Equal(one, shared);
                }
                else
                {
                    var one = new float[n];
                    var shared = new float[n];
                    pre.WriteF32(frame, one);
                    pre.WriteF32(frame, shared, session);
                    Assert.Equal(one, shared);
                }
                // One range for the call without a session; the session's pool hands its rows out in several.
                Assert.True(pre.RowRangesRun - ranges > 2, $"{pre.RowRangesRun - ranges - 1} row ranges with the session");
            }
        }
    }

    /// <summary>The vector path against the one-pixel-at-a-time reference, bit for bit, over 600 generated frames and inputs.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void VectorPathEqualsTheReferenceBitForBit(int seed)
    {
        var failures = PreprocessingConformance.Check(seed, 200);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [InlineData(PixelFormat.Yuyv)]
    [InlineData(PixelFormat.I420)]
    [InlineData(PixelFormat.Rgb24)]
    public void AFrameShorterThanItsGeometryIsRefused(PixelFormat format)
    {
        var contract = new InputContract { Width = 8, Height = 8, Channels = 3 };
        var input = new TensorDefinition("input", DataType.Int8, [1, 8, 8, 3], QuantizationInfo.PerTensor(2f / 255, -1));
        var frame = new FrameBuffer();
        int stride = FrameBuffer.MinimumStride(format, 16), needed = FrameBuffer.RequiredBytes(format, 16, 12, stride);
        frame.Prepare(format, 16, 12, stride, needed - 1);
        foreach (bool reference in new[] { false, true })
        {
            var e = Assert.Throws<ArgumentException>(() => new FramePreprocessor(contract, input, reference: reference).WriteInt8(frame, new sbyte[8 * 8 * 3]));
            Assert.Contains($"needs {needed} bytes; this one holds {needed - 1}", e.Message);
        }
    }

    [Fact]
    public void ATensorTooSmallForTheContractIsRefused()
    {
        var contract = new InputContract { Width = 8, Height = 8, Channels = 3 };
        var input = new TensorDefinition("input", DataType.Int8, [1, 8, 8, 3], QuantizationInfo.PerTensor(2f / 255, -1));
        var frame = Encode(PatternRgb(16, 16, 3), 16, 16, PixelFormat.Rgb24, false, padding: 0);
        var e = Assert.Throws<ArgumentException>(() => new FramePreprocessor(contract, input).WriteInt8(frame, new sbyte[8 * 8 * 3 - 1]));
        Assert.Contains("191", e.Message);
    }

    /// <summary>Gray reference: the whole frame converted to gray, then ImagePreprocessor (normalized values).</summary>
    private static double[] GrayReference(FrameBuffer frame, InputContract contract, TensorDefinition input)
    {
        var f32 = new TensorDefinition("input", DataType.Float32, input.Shape, null);
        var values = new float[input.Shape[1] * input.Shape[2]];
        new ImagePreprocessor(contract, f32).WriteF32(ReferenceImage(frame, 1), values);
        return values.Select(v => (double)v).ToArray();
    }

    /// <summary>Colour reference: components interpolated, then exact BT.601, then the contract's normalization.</summary>
    private static double[] ColourReference(FrameBuffer frame, InputContract contract, PixelFormat format, bool full)
    {
        int mw = contract.Width, mh = contract.Height;
        var identity = new InputContract { Width = mw, Height = mh, Channels = 3, Mean = [0, 0, 0], Std = [1, 1, 1], ColorOrder = ColorOrder.Rgb };
        var components = new float[mw * mh * 3];
        new ImagePreprocessor(identity, new TensorDefinition("c", DataType.Float32, [1, mh, mw, 3], null))
            .WriteF32(ComponentImage(frame), components);
        bool yuv = format is PixelFormat.Yuyv or PixelFormat.Nv12 or PixelFormat.I420;
        var expected = new double[components.Length];
        for (int p = 0; p < mw * mh; p++)
        {
            double c0 = components[3 * p], c1 = components[3 * p + 1], c2 = components[3 * p + 2];
            var (r, g, b) = yuv ? YuvToRgbExact(c0, c1, c2, full) : (c0, c1, c2);
            double[] rgb = [Math.Clamp(r, 0, 255), Math.Clamp(g, 0, 255), Math.Clamp(b, 0, 255)];
            for (int k = 0; k < 3; k++)
            {
                double v = contract.ColorOrder == ColorOrder.Bgr ? rgb[2 - k] : rgb[k];
                expected[3 * p + k] = (v - contract.Mean[k]) / contract.Std[k];
            }
        }
        return expected;
    }

    [Fact]
    public void LetterboxPadsWithTheMeanAndStretchUsesTheWholeFrame()
    {
        var contract = new InputContract { Width = 8, Height = 8, Channels = 3 };
        var input = new TensorDefinition("input", DataType.Float32, [1, 8, 8, 3], null);
        var rgb = new byte[16 * 8 * 3];
        Array.Fill(rgb, (byte)255);
        var frame = Encode(rgb, 16, 8, PixelFormat.Rgb24, false);
        var tensor = new float[8 * 8 * 3];
        new FramePreprocessor(contract, input, ResizeMode.Letterbox).WriteF32(frame, tensor);
        Assert.Equal(0f, tensor[0], 5);                        // row 0 is border (frame fills rows 2..5)
        Assert.Equal(1f, tensor[(4 * 8 + 0) * 3], 5);          // middle row is image
        new FramePreprocessor(contract, input, ResizeMode.Stretch).WriteF32(frame, tensor);
        Assert.All(tensor, v => Assert.Equal(1f, v, 5));
    }

    [Fact]
    public void SteadyStatePreprocessingAllocatesNothing()
    {
        var contract = new InputContract { Width = 32, Height = 32, Channels = 3 };
        var input = new TensorDefinition("input", DataType.Int8, [1, 32, 32, 3], QuantizationInfo.PerTensor(2f / 255, -1));
        var frame = Encode(PatternRgb(64, 48), 64, 48, PixelFormat.Yuyv, false);
        var pre = new FramePreprocessor(contract, input);
        var tensor = new sbyte[32 * 32 * 3];
        Assert.Equal(0, AllocationMeter.SteadyStateBytes(() => pre.WriteInt8(frame, tensor), callsPerWindow: 20));
    }
}
