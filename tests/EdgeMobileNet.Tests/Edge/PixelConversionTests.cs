using EdgeMobileNet.Graph.Runtime;
using System.Diagnostics;
using EdgeMobileNet.Edge.Frames;
using EdgeMobileNet.Edge.Imaging;
using EdgeMobileNet.Format.Model;
using Xunit;
using Xunit.Abstractions;
using static EdgeMobileNet.Tests.Edge.EdgeTestSupport;

namespace EdgeMobileNet.Tests.Edge;

public class PixelConversionTests(ITestOutputHelper output)
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

    /// <summary>
    /// Fused frame -> tensor equals the straightforward path: convert the whole frame with exact BT.601
    /// into an RGB image, then the existing ImagePreprocessor (crop, bilinear, normalize/quantize).
    /// The fixed-point conversion may differ by one level, i.e. at most one int8 step.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void FusedPreprocessingMatchesConvertThenResize(PixelFormat format, bool full, DataType type, int channels, ColorOrder order)
    {
        const int w = 50, h = 34, mw = 20, mh = 16;
        var contract = new InputContract { Width = mw, Height = mh, Channels = channels, ColorOrder = order };
        if (channels == 1) { contract.Mean = [127.5f]; contract.Std = [127.5f]; }
        var quant = type == DataType.Int8 ? QuantizationInfo.PerTensor(2f / 255, -1) : null;
        var input = new TensorDefinition("input", type, [1, mh, mw, channels], quant);
        var frame = Encode(PatternRgb(w, h, 3), w, h, format, full, padding: 4);
        var reference = ReferenceImage(frame, channels);
        var fused = new FramePreprocessor(contract, input);
        var plain = new ImagePreprocessor(contract, input);
        int n = mw * mh * channels;
        if (type == DataType.Int8)
        {
            var a = new sbyte[n];
            var b = new sbyte[n];
            fused.WriteInt8(frame, a);
            plain.WriteInt8(reference, b);
            for (int i = 0; i < n; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1, $"{format} element {i}: {a[i]} vs {b[i]}");
        }
        else
        {
            var a = new float[n];
            var b = new float[n];
            fused.WriteF32(frame, a);
            plain.WriteF32(reference, b);
            for (int i = 0; i < n; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1.01f / 127.5f, $"{format} element {i}: {a[i]} vs {b[i]}");
        }
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

    /// <summary>Reports YUYV 640x480 -> 224x224x3 int8 cost (not a pass/fail benchmark).</summary>
    [Fact]
    public void MeasureYuyv640x480To224Int8()
    {
        var contract = new InputContract { Width = 224, Height = 224, Channels = 3 };
        var input = new TensorDefinition("input", DataType.Int8, [1, 224, 224, 3], QuantizationInfo.PerTensor(2f / 255, -1));
        var frame = Encode(PatternRgb(640, 480), 640, 480, PixelFormat.Yuyv, false);
        var pre = new FramePreprocessor(contract, input);
        var tensor = new sbyte[224 * 224 * 3];
        for (int i = 0; i < 5; i++) pre.WriteInt8(frame, tensor);
        var times = new List<double>();
        for (int i = 0; i < 30; i++)
        {
            long t = Stopwatch.GetTimestamp();
            pre.WriteInt8(frame, tensor);
            times.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }
        times.Sort();
        output.WriteLine($"YUYV 640x480 -> 224x224x3 int8: median {times[15]:F3} ms, min {times[0]:F3} ms");
        Assert.True(times[0] > 0);
    }
}
