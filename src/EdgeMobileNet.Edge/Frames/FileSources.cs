using System.Globalization;
using System.Text;
using EdgeMobileNet.Edge.Imaging;

namespace EdgeMobileNet.Edge.Frames;

/// <summary>
/// YUV4MPEG2 (.y4m) video: header "YUV4MPEG2 W.. H.. F.. [C420jpeg|C420paldv|C420mpeg2|C420|Cmono] ...",
/// then per frame "FRAME[ params]\n" and the planes. Reads into the reusable frame with no allocation
/// per frame. Timestamps are frame index / frame rate (the file's own clock).
/// </summary>
public sealed class Y4mFrameSource : IFrameSource
{
    private readonly Stream _stream;
    private readonly string _path;
    private readonly bool _loop;
    private readonly long _dataStart;
    private readonly int _frameBytes;
    private readonly byte[] _line = new byte[256];
    private long _index;

    public Y4mFrameSource(string path, bool loop = false, YuvRange range = YuvRange.Limited)
    {
        _path = path;
        _loop = loop;
        Range = range;
        try
        {
            _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FrameSourceUnavailableException($"{path}: cannot open: {e.Message}", e);
        }
        try
        {
            string header = ReadLine(_stream) ?? throw new FrameSourceUnavailableException($"{path}: empty file, not a Y4M video");
            (Width, Height, Fps, Format) = ParseHeader(header, path);
            _dataStart = _stream.Position;
            _frameBytes = FrameBuffer.RequiredBytes(Format, Width, Height, Width);
        }
        catch
        {
            _stream.Dispose();
            throw;
        }
    }

    public int Width { get; }
    public int Height { get; }
    public double Fps { get; }
    public PixelFormat Format { get; }
    public YuvRange Range { get; }
    public string Description => $"y4m {_path} {Width}x{Height} {(Format == PixelFormat.Grey ? "mono" : "4:2:0")} @ {Fps:G4} fps";
    public bool IsFile => true;

    public static (int Width, int Height, double Fps, PixelFormat Format) ParseHeader(string header, string path)
    {
        var parts = header.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts[0] != "YUV4MPEG2") throw new FrameSourceUnavailableException($"{path}: not a Y4M video (no YUV4MPEG2 signature)");
        int width = 0, height = 0;
        double fps = 25;
        var format = PixelFormat.I420;
        foreach (string p in parts.Skip(1))
        {
            string v = p[1..];
            switch (p[0])
            {
                case 'W': width = int.Parse(v, CultureInfo.InvariantCulture); break;
                case 'H': height = int.Parse(v, CultureInfo.InvariantCulture); break;
                case 'F':
                    var f = v.Split(':');
                    if (f.Length == 2 && double.TryParse(f[0], CultureInfo.InvariantCulture, out double n) && double.TryParse(f[1], CultureInfo.InvariantCulture, out double d) && n > 0 && d > 0) fps = n / d;
                    else throw new FrameSourceUnavailableException($"{path}: bad frame rate '{p}'");
                    break;
                case 'I':
                    if (v != "p" && v != "?") throw new FrameSourceUnavailableException($"{path}: interlaced Y4M ({p}) is not supported");
                    break;
                case 'C':
                    if (v is "420" or "420jpeg" or "420paldv" or "420mpeg2") format = PixelFormat.I420;
                    else if (v == "mono") format = PixelFormat.Grey;
                    else throw new FrameSourceUnavailableException($"{path}: colour space '{v}' not supported (C420, C420jpeg, C420paldv, C420mpeg2, Cmono)");
                    break;
            }
        }
        if (width <= 0 || height <= 0 || width > 8192 || height > 8192) throw new FrameSourceUnavailableException($"{path}: bad frame size {width}x{height}");
        return (width, height, fps, format);
    }

    public FrameReadStatus Read(FrameBuffer frame, int timeoutMs)
    {
        int n = ReadLineBytes(_stream, _line);
        if (n < 0 && _loop && _index > 0)
        {
            _stream.Position = _dataStart;
            n = ReadLineBytes(_stream, _line);
        }
        if (n < 0) return FrameReadStatus.EndOfStream;
        if (n < 5 || !_line.AsSpan(0, 5).SequenceEqual("FRAME"u8))
            throw new IOException($"{_path}: frame {_index}: expected a FRAME header");
        var data = frame.Prepare(Format, Width, Height, Width, _frameBytes);
        int read = 0;
        while (read < data.Length)
        {
            int got = _stream.Read(data[read..]);
            if (got == 0) return FrameReadStatus.EndOfStream; // truncated last frame
            read += got;
        }
        frame.Range = Range;
        frame.Sequence = _index;
        frame.TimestampMs = _index * 1000.0 / Fps;
        _index++;
        return FrameReadStatus.Frame;
    }

    private static string? ReadLine(Stream s)
    {
        var buffer = new byte[1024];
        int n = ReadLineBytes(s, buffer);
        return n < 0 ? null : Encoding.ASCII.GetString(buffer, 0, n);
    }

    /// <summary>Reads up to '\n' (excluded) into buffer; -1 at end of stream. Longer lines are truncated.</summary>
    private static int ReadLineBytes(Stream s, byte[] buffer)
    {
        int count = 0;
        while (true)
        {
            int b = s.ReadByte();
            if (b < 0) return count == 0 ? -1 : count;
            if (b == '\n') return count;
            if (count < buffer.Length) buffer[count++] = (byte)b;
        }
    }

    public void Dispose() => _stream.Dispose();
}

/// <summary>
/// Raw I420 frames from a pipe, file or stdin ("-"), as `rpicam-vid --codec yuv420 -o -` writes them:
/// no header, each frame Y (stride x height) then U and V (stride/2 x height/2). The size and stride
/// come from the configuration. End of stream means the camera process went away (treated as lost).
/// </summary>
public sealed class RawI420Source : IFrameSource
{
    private readonly Stream _stream;
    private readonly string _path;
    private readonly int _frameBytes;
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private long _index;

    public RawI420Source(string path, int width, int height, int stride, YuvRange range)
    {
        _path = path;
        Width = width;
        Height = height;
        Stride = stride > 0 ? stride : width;
        Range = range;
        _frameBytes = FrameBuffer.RequiredBytes(PixelFormat.I420, Width, Height, Stride);
        try
        {
            _stream = path == "-" ? Console.OpenStandardInput(1 << 16) : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FrameSourceUnavailableException($"{path}: cannot open: {e.Message}", e);
        }
    }

    public int Width { get; }
    public int Height { get; }
    public int Stride { get; }
    public YuvRange Range { get; }
    public string Description => $"libcamera yuv420 {(_path == "-" ? "stdin" : _path)} {Width}x{Height} stride {Stride}";
    public bool IsFile => false;

    public FrameReadStatus Read(FrameBuffer frame, int timeoutMs)
    {
        var data = frame.Prepare(PixelFormat.I420, Width, Height, Stride, _frameBytes);
        int read = 0;
        while (read < data.Length)
        {
            int got = _stream.Read(data[read..]);
            if (got == 0)
            {
                string message = $"{_path}: the camera stream ended after {_index} frames (did rpicam-vid exit?)";
                // stdin cannot be reopened: fail (exit 4) so systemd restarts the whole pipeline;
                // a named pipe can be reopened once the producer comes back.
                if (_path == "-") throw new EndOfStreamException(message);
                throw new FrameSourceLostException(message);
            }
            read += got;
        }
        frame.Range = Range;
        frame.Sequence = _index++;
        frame.TimestampMs = _clock.Elapsed.TotalMilliseconds;
        return FrameReadStatus.Frame;
    }

    public void Dispose() => _stream.Dispose();
}

/// <summary>
/// One image file or a folder of images (sorted by name; .jpg .jpeg .png .bmp), decoded once at open
/// into RGB24 frames, then replayed (optionally in a loop) with timestamps at the configured rate.
/// Replaying copies into the reusable frame, so steady state allocates nothing.
/// </summary>
public sealed class ImageFilesSource : IFrameSource
{
    private static readonly string[] Extensions = [".jpg", ".jpeg", ".png", ".bmp"];
    private readonly List<FrameBuffer> _frames = [];
    private readonly bool _loop;
    private readonly double _fps;
    private readonly string _path;
    private int _next;
    private long _index;

    public ImageFilesSource(string path, bool loop, double fps)
    {
        _path = path;
        _loop = loop;
        _fps = fps > 0 ? fps : 10;
        string[] files;
        if (Directory.Exists(path))
        {
            files = Directory.EnumerateFiles(path).Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                .Order(StringComparer.Ordinal).ToArray();
            if (files.Length == 0) throw new FrameSourceUnavailableException($"{path}: no .jpg, .jpeg, .png or .bmp images in the folder");
        }
        else if (File.Exists(path)) files = [path];
        else throw new FrameSourceUnavailableException($"{path}: no such image or folder");
        foreach (string file in files)
        {
            RgbImage image;
            try
            {
                image = ImageDecoder.DecodeFile(file, 3);
            }
            catch (ImageDecodeException e)
            {
                throw new FrameSourceUnavailableException(e.Message, e);
            }
            var frame = new FrameBuffer();
            image.Pixels.CopyTo(frame.Prepare(PixelFormat.Rgb24, image.Width, image.Height, image.Width * 3, image.Pixels.Length));
            _frames.Add(frame);
        }
        Count = files.Length;
    }

    public int Count { get; }
    public string Description => $"images {_path} ({Count} file{(Count == 1 ? "" : "s")}){(_loop ? ", looping" : "")}";
    public bool IsFile => true;

    public FrameReadStatus Read(FrameBuffer frame, int timeoutMs)
    {
        if (_next == _frames.Count)
        {
            if (!_loop) return FrameReadStatus.EndOfStream;
            _next = 0;
        }
        frame.CopyFrom(_frames[_next++]);
        frame.Sequence = _index;
        frame.TimestampMs = _index * 1000.0 / _fps;
        _index++;
        return FrameReadStatus.Frame;
    }

    public void Dispose() { }
}
