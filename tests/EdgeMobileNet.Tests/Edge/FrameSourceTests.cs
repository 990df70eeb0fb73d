using EdgeMobileNet.Edge.Frames;
using EdgeMobileNet.Edge.Imaging;
using Xunit;
using static EdgeMobileNet.Tests.Edge.EdgeTestSupport;

namespace EdgeMobileNet.Tests.Edge;

public class FrameSourceTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("YUV4MPEG2 W320 H240 F30000:1001 Ip A1:1 C420jpeg", 320, 240, 29.97, PixelFormat.I420)]
    [InlineData("YUV4MPEG2 W64 H48 F15:1 Cmono", 64, 48, 15, PixelFormat.Grey)]
    [InlineData("YUV4MPEG2 W64 H48 F25:1", 64, 48, 25, PixelFormat.I420)]
    public void Y4mHeadersParse(string header, int w, int h, double fps, PixelFormat format)
    {
        var (pw, ph, pfps, pformat) = Y4mFrameSource.ParseHeader(header, "x.y4m");
        Assert.Equal((w, h, format), (pw, ph, pformat));
        Assert.Equal(fps, pfps, 2);
    }

    [Theory]
    [InlineData("YUV4MPEG W64 H48", "no YUV4MPEG2 signature")]
    [InlineData("YUV4MPEG2 W64 H48 It", "interlaced")]
    [InlineData("YUV4MPEG2 W64 H48 C422", "colour space '422'")]
    [InlineData("YUV4MPEG2 W0 H48", "bad frame size")]
    public void BadY4mHeadersAreNamed(string header, string expected)
    {
        var e = Assert.Throws<FrameSourceUnavailableException>(() => Y4mFrameSource.ParseHeader(header, "x.y4m"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Y4mFramesLoopAndCarryFrameTimestamps()
    {
        string path = _dir.File("a.y4m");
        WriteY4m(path, 8, 6, 20, [PatternRgb(8, 6, 1), PatternRgb(8, 6, 2)]);
        using var source = new Y4mFrameSource(path, loop: true);
        var frame = new FrameBuffer();
        var times = new List<double>();
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(FrameReadStatus.Frame, source.Read(frame, 0));
            times.Add(frame.TimestampMs);
        }
        Assert.Equal([0, 50, 100, 150, 200], times);
        Assert.Equal((8, 6, PixelFormat.I420, 8 * 6 * 3 / 2), (frame.Width, frame.Height, frame.Format, frame.Length));
        using var once = new Y4mFrameSource(path);
        once.Read(frame, 0);
        once.Read(frame, 0);
        Assert.Equal(FrameReadStatus.EndOfStream, once.Read(frame, 0));
    }

    [Fact]
    public void RawI420PipeHonoursStrideAndReportsTheEndAsLost()
    {
        const int w = 10, h = 6, stride = 16;
        var frame = Encode(PatternRgb(w, h), w, h, PixelFormat.I420, false, padding: stride - w);
        string path = _dir.File("cam.yuv");
        using (var f = File.Create(path))
        {
            f.Write(frame.Data, 0, frame.Length);
            f.Write(frame.Data, 0, frame.Length);
        }
        Assert.Equal(stride * h * 3 / 2, frame.Length);
        using var source = new RawI420Source(path, w, h, stride, YuvRange.Limited);
        var read = new FrameBuffer();
        Assert.Equal(FrameReadStatus.Frame, source.Read(read, 0));
        Assert.Equal(FrameReadStatus.Frame, source.Read(read, 0));
        Assert.Equal(frame.Data.AsSpan(0, frame.Length).ToArray(), read.Data.AsSpan(0, read.Length).ToArray());
        Assert.Equal(stride / 2, read.ChromaStride);
        Assert.Throws<FrameSourceLostException>(() => source.Read(read, 0));
    }

    [Fact]
    public void CorruptMjpegFramesAreRejectedAndCounted()
    {
        var decoder = new MjpegDecoder();
        var frame = new FrameBuffer();
        Assert.False(decoder.TryDecode([1, 2, 3, 4, 5], frame));
        Assert.False(decoder.TryDecode([0xFF, 0xD9, 0, 0], frame));
        Assert.False(decoder.TryDecode([0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 1, 2, 3], frame)); // truncated: no EOI
        Assert.Equal(3, decoder.CorruptFrames);
    }

    [Fact]
    public void FolderSourceDecodesOnceAndReplaysInNameOrder()
    {
        Directory.CreateDirectory(_dir.File("imgs"));
        Cli.TestImages.WriteBmp(_dir.File("imgs/b.bmp"), 4, 2, (_, _) => (0, 0, 255));
        Cli.TestImages.WriteBmp(_dir.File("imgs/a.bmp"), 4, 2, (_, _) => (255, 0, 0));
        File.WriteAllText(_dir.File("imgs/notes.txt"), "ignored");
        using var source = new ImageFilesSource(_dir.File("imgs"), loop: false, fps: 4);
        var frame = new FrameBuffer();
        Assert.Equal(FrameReadStatus.Frame, source.Read(frame, 0));
        Assert.Equal((PixelFormat.Rgb24, (byte)255, 0.0), (frame.Format, frame.Data[0], frame.TimestampMs));
        Assert.Equal(FrameReadStatus.Frame, source.Read(frame, 0));
        Assert.Equal(((byte)0, (byte)255, 250.0), (frame.Data[0], frame.Data[2], frame.TimestampMs));
        Assert.Equal(FrameReadStatus.EndOfStream, source.Read(frame, 0));
        Assert.Throws<FrameSourceUnavailableException>(() => new ImageFilesSource(_dir.File("nothing-here"), false, 1));
    }
}
