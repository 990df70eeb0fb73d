namespace EdgeMobileNet.Edge.Frames;

/// <summary>Pixel layouts a frame source can deliver.</summary>
public enum PixelFormat
{
    /// <summary>Packed 4:2:2, Y0 U Y1 V (V4L2 'YUYV').</summary>
    Yuyv,
    /// <summary>Planar 4:2:0: Y plane, then interleaved U V plane (V4L2 'NV12').</summary>
    Nv12,
    /// <summary>Planar 4:2:0: Y plane, U plane, V plane (V4L2 'YU12', libcamera yuv420, Y4M C420).</summary>
    I420,
    /// <summary>Packed R G B.</summary>
    Rgb24,
    /// <summary>Packed B G R.</summary>
    Bgr24,
    /// <summary>8-bit luma only (V4L2 'GREY', Y4M Cmono).</summary>
    Grey,
    /// <summary>Motion JPEG: each frame is one JPEG, decoded before preprocessing.</summary>
    Mjpeg,
}

/// <summary>How Y'CbCr values map to R'G'B' (both BT.601 matrix).</summary>
public enum YuvRange
{
    /// <summary>BT.601 limited ("studio", "TV") range: Y 16..235, Cb/Cr 16..240. V4L2 webcams and libcamera video.</summary>
    Limited,
    /// <summary>BT.601 full ("JPEG") range: Y, Cb, Cr 0..255.</summary>
    Full,
}

/// <summary>
/// One frame in a reusable buffer. Sources write into <see cref="Data"/>, growing it only when a frame
/// is larger than any before, so a steady stream allocates nothing. <see cref="Stride"/> is the byte
/// distance between rows of the first plane (Y or packed pixels); chroma planes of 4:2:0 formats follow
/// the luma plane (Height rows) with stride <see cref="ChromaStride"/>.
/// </summary>
public sealed class FrameBuffer
{
    public byte[] Data { get; private set; } = [];
    public int Length { get; private set; }
    public int Width { get; private set; }
    public int Height { get; private set; }
    public int Stride { get; private set; }
    public int ChromaStride { get; private set; }
    public PixelFormat Format { get; private set; }
    public YuvRange Range { get; set; } = YuvRange.Limited;
    /// <summary>Frame counter from the source (increments by one per delivered frame, gaps = frames lost upstream).</summary>
    public long Sequence { get; set; }
    /// <summary>Capture time in milliseconds on the source's clock (wall clock for cameras, frame time for files).</summary>
    public double TimestampMs { get; set; }

    /// <summary>Sets the geometry and makes <see cref="Data"/> at least <paramref name="length"/> bytes.</summary>
    public Span<byte> Prepare(PixelFormat format, int width, int height, int stride, int length, int chromaStride = 0)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"frame size {width}x{height} is empty");
        if (Data.Length < length) Data = new byte[length];
        Format = format;
        Width = width;
        Height = height;
        Stride = stride;
        ChromaStride = chromaStride > 0 ? chromaStride : format is PixelFormat.I420 ? (stride + 1) / 2 : stride;
        Length = length;
        return Data.AsSpan(0, length);
    }

    /// <summary>Bytes a frame needs for a format, size and luma stride (chroma stride derived).</summary>
    public static int RequiredBytes(PixelFormat format, int width, int height, int stride) => format switch
    {
        PixelFormat.Yuyv or PixelFormat.Rgb24 or PixelFormat.Bgr24 or PixelFormat.Grey => stride * height,
        PixelFormat.Nv12 => stride * height + stride * ((height + 1) / 2),
        PixelFormat.I420 => stride * height + 2 * ((stride + 1) / 2) * ((height + 1) / 2),
        _ => throw new ArgumentException($"{format} frames have no fixed size"),
    };

    public static int MinimumStride(PixelFormat format, int width) => format switch
    {
        PixelFormat.Yuyv => ((width + 1) / 2) * 4,
        PixelFormat.Rgb24 or PixelFormat.Bgr24 => width * 3,
        PixelFormat.Nv12 => (width + 1) & ~1, // its chroma rows (same stride) hold a U V pair per two columns, the last one too
        _ => width,
    };

    public void CopyFrom(FrameBuffer other)
    {
        var dst = Prepare(other.Format, other.Width, other.Height, other.Stride, other.Length, other.ChromaStride);
        other.Data.AsSpan(0, other.Length).CopyTo(dst);
        Range = other.Range;
        Sequence = other.Sequence;
        TimestampMs = other.TimestampMs;
    }
}

public enum FrameReadStatus
{
    Frame,
    /// <summary>No frame within the timeout (a live source may still recover).</summary>
    Timeout,
    /// <summary>A frame arrived but could not be used (e.g. corrupt MJPEG); counted and skipped.</summary>
    Corrupt,
    /// <summary>A file source has no more frames.</summary>
    EndOfStream,
}

/// <summary>The camera went away (unplugged, ENODEV/EIO); the runtime makes outputs safe and reopens.</summary>
public sealed class FrameSourceLostException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>The source cannot be opened at all (missing device or file, unsupported format).</summary>
public sealed class FrameSourceUnavailableException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>
/// Produces frames into a caller-owned reusable <see cref="FrameBuffer"/>. Implementations allocate
/// nothing per frame in steady state (MJPEG decoding excepted, see docs/edge-runtime.md).
/// </summary>
public interface IFrameSource : IDisposable
{
    string Description { get; }
    /// <summary>True for files: frames must not be dropped and carry their own timestamps.</summary>
    bool IsFile { get; }
    FrameReadStatus Read(FrameBuffer frame, int timeoutMs);
}
