using EdgeMobileNet.Edge.Frames;
using EdgeMobileNet.Edge.Imaging;

namespace EdgeMobileNet.Edge.V4l2;

/// <summary>
/// A V4L2 capture device (USB webcam, or the Pi camera through a V4L2 node) with memory-mapped
/// streaming I/O: QUERYCAP, ENUM_FMT, ENUM_FRAMESIZES, S_FMT/G_FMT, S_PARM, REQBUFS, QUERYBUF + mmap,
/// QBUF/DQBUF, STREAMON/OFF and poll with a timeout. Each dequeued buffer is copied into the caller's
/// reusable frame and re-queued at once (MJPEG is decoded into it). ENODEV/EIO and POLLERR raise
/// <see cref="FrameSourceLostException"/>.
/// </summary>
public sealed unsafe class V4l2FrameSource : IFrameSource
{
    private readonly string _device;
    private int _fd = -1;
    private readonly List<(nint Address, nuint Length)> _buffers = [];
    private bool _streaming;
    private uint _fourcc;
    private readonly MjpegDecoder? _mjpeg;
    private long _sequence;

    public V4l2FrameSource(string device, PixelFormat format, int width, int height, double fps, int bufferCount, YuvRange range)
    {
        _device = device;
        Range = range;
        if (!File.Exists(device)) throw new FrameSourceUnavailableException($"{device}: no such camera device (is the camera connected? 'ls /dev/video*')");
        _fd = Libc.open(device, Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        if (_fd < 0) throw new FrameSourceUnavailableException($"{device}: cannot open: {Libc.Describe(Libc.Errno)}");
        try
        {
            V4l2Capability cap;
            if (Libc.ioctl(_fd, V4l2Api.QueryCap, &cap) < 0)
                throw new FrameSourceUnavailableException($"{device}: not a V4L2 device (VIDIOC_QUERYCAP: {Libc.Describe(Libc.Errno)})");
            uint caps = (cap.Capabilities & V4l2Api.CapDeviceCaps) != 0 ? cap.DeviceCaps : cap.Capabilities;
            Card = CString(cap.Card, 32);
            if ((caps & V4l2Api.CapVideoCapture) == 0) throw new FrameSourceUnavailableException($"{device} ({Card}): not a single-planar video capture device");
            if ((caps & V4l2Api.CapStreaming) == 0) throw new FrameSourceUnavailableException($"{device} ({Card}): does not support streaming I/O");

            uint wanted = FourCcOf(format);
            Formats = EnumerateFormats();
            if (!Formats.Contains(wanted))
                throw new FrameSourceUnavailableException($"{device} ({Card}): pixel format {V4l2Api.FourCcText(wanted)} not offered; it offers {string.Join(", ", Formats.Select(V4l2Api.FourCcText))}");
            FrameSizes = EnumerateFrameSizes(wanted);

            V4l2Format fmt = default;
            fmt.Type = V4l2Api.BufTypeVideoCapture;
            fmt.Pix.Width = (uint)width;
            fmt.Pix.Height = (uint)height;
            fmt.Pix.PixelFormat = wanted;
            fmt.Pix.Field = V4l2Api.FieldNone;
            Check(Libc.ioctl(_fd, V4l2Api.SetFmt, &fmt), "VIDIOC_S_FMT");
            Check(Libc.ioctl(_fd, V4l2Api.GetFmt, &fmt), "VIDIOC_G_FMT");
            if (fmt.Pix.PixelFormat != wanted)
                throw new FrameSourceUnavailableException($"{device}: driver chose {V4l2Api.FourCcText(fmt.Pix.PixelFormat)} instead of {V4l2Api.FourCcText(wanted)}");
            _fourcc = wanted;
            Format = format;
            Width = (int)fmt.Pix.Width;
            Height = (int)fmt.Pix.Height;
            Stride = fmt.Pix.BytesPerLine != 0 ? (int)fmt.Pix.BytesPerLine : FrameBuffer.MinimumStride(format, Width);
            // V4L2 quantization 1 = full range, 2 = limited; 0 = default for the colour space (limited for YUV).
            if (fmt.Pix.Quantization == 1) Range = YuvRange.Full;

            if (fps > 0)
            {
                V4l2StreamParm parm = default;
                parm.Type = V4l2Api.BufTypeVideoCapture;
                if (Libc.ioctl(_fd, V4l2Api.GetParm, &parm) == 0 && (parm.Capture.Capability & V4l2Api.CapTimePerFrame) != 0)
                {
                    parm.Capture.TimePerFrameNumerator = 1000;
                    parm.Capture.TimePerFrameDenominator = (uint)Math.Round(fps * 1000);
                    if (Libc.ioctl(_fd, V4l2Api.SetParm, &parm) == 0 && parm.Capture.TimePerFrameNumerator != 0)
                        Fps = (double)parm.Capture.TimePerFrameDenominator / parm.Capture.TimePerFrameNumerator;
                }
            }

            V4l2RequestBuffers req = default;
            req.Count = (uint)bufferCount;
            req.Type = V4l2Api.BufTypeVideoCapture;
            req.Memory = V4l2Api.MemoryMmap;
            Check(Libc.ioctl(_fd, V4l2Api.ReqBufs, &req), "VIDIOC_REQBUFS");
            if (req.Count < 2) throw new FrameSourceUnavailableException($"{device}: only {req.Count} buffer(s) granted");
            for (uint i = 0; i < req.Count; i++)
            {
                V4l2Buffer buf = default;
                buf.Type = V4l2Api.BufTypeVideoCapture;
                buf.Memory = V4l2Api.MemoryMmap;
                buf.Index = i;
                Check(Libc.ioctl(_fd, V4l2Api.QueryBuf, &buf), "VIDIOC_QUERYBUF");
                void* address = Libc.mmap(null, buf.Length, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, _fd, (nint)buf.Offset);
                if (address == (void*)-1) throw new FrameSourceUnavailableException($"{device}: mmap of buffer {i} failed: {Libc.Describe(Libc.Errno)}");
                _buffers.Add(((nint)address, buf.Length));
            }
            for (uint i = 0; i < _buffers.Count; i++) Queue(i);
            int type = (int)V4l2Api.BufTypeVideoCapture;
            Check(Libc.ioctl(_fd, V4l2Api.StreamOn, &type), "VIDIOC_STREAMON");
            _streaming = true;
            if (format == PixelFormat.Mjpeg) _mjpeg = new MjpegDecoder();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Card { get; } = "";
    public List<uint> Formats { get; } = [];
    public List<(int Width, int Height)> FrameSizes { get; } = [];
    public PixelFormat Format { get; }
    public int Width { get; }
    public int Height { get; }
    public int Stride { get; }
    public double Fps { get; }
    public YuvRange Range { get; }
    public string Description => $"v4l2 {_device} ({Card}) {V4l2Api.FourCcText(_fourcc)} {Width}x{Height} stride {Stride}{(Fps > 0 ? $" @ {Fps:F1} fps" : "")}";
    public bool IsFile => false;

    public FrameReadStatus Read(FrameBuffer frame, int timeoutMs)
    {
        var pfd = new Libc.PollFd { Fd = _fd, Events = Libc.POLLIN };
        int ready = Libc.poll(&pfd, 1, timeoutMs);
        if (ready < 0)
        {
            int errno = Libc.Errno;
            if (errno == Libc.EINTR) return FrameReadStatus.Timeout;
            throw new FrameSourceLostException($"{_device}: poll failed: {Libc.Describe(errno)}");
        }
        if (ready == 0) return FrameReadStatus.Timeout;
        if ((pfd.Revents & (Libc.POLLERR | Libc.POLLHUP | Libc.POLLNVAL)) != 0 && (pfd.Revents & Libc.POLLIN) == 0)
            throw new FrameSourceLostException($"{_device}: device error (poll revents 0x{pfd.Revents:x})");

        V4l2Buffer buf = default;
        buf.Type = V4l2Api.BufTypeVideoCapture;
        buf.Memory = V4l2Api.MemoryMmap;
        if (Libc.ioctl(_fd, V4l2Api.DqBuf, &buf) < 0)
        {
            int errno = Libc.Errno;
            if (errno == Libc.EAGAIN || errno == Libc.EINTR) return FrameReadStatus.Timeout;
            throw new FrameSourceLostException($"{_device}: VIDIOC_DQBUF failed: {Libc.Describe(errno)}");
        }
        try
        {
            if ((buf.Flags & V4l2Api.BufFlagError) != 0 || buf.BytesUsed == 0) return FrameReadStatus.Corrupt;
            var (address, length) = _buffers[(int)buf.Index];
            var bytes = new ReadOnlySpan<byte>((void*)address, (int)Math.Min(buf.BytesUsed, (uint)length));
            if (_mjpeg is not null)
            {
                if (!_mjpeg.TryDecode(bytes, frame)) return FrameReadStatus.Corrupt;
            }
            else
            {
                int needed = FrameBuffer.RequiredBytes(Format, Width, Height, Stride);
                if (bytes.Length < needed) return FrameReadStatus.Corrupt;
                bytes[..needed].CopyTo(frame.Prepare(Format, Width, Height, Stride, needed));
                frame.Range = Range;
            }
            frame.Sequence = _sequence++;
            frame.TimestampMs = buf.TimestampSec * 1000.0 + buf.TimestampUsec / 1000.0;
            return FrameReadStatus.Frame;
        }
        finally
        {
            Queue(buf.Index);
        }
    }

    private void Queue(uint index)
    {
        V4l2Buffer buf = default;
        buf.Type = V4l2Api.BufTypeVideoCapture;
        buf.Memory = V4l2Api.MemoryMmap;
        buf.Index = index;
        if (Libc.ioctl(_fd, V4l2Api.QBuf, &buf) < 0)
            throw new FrameSourceLostException($"{_device}: VIDIOC_QBUF failed: {Libc.Describe(Libc.Errno)}");
    }

    private List<uint> EnumerateFormats()
    {
        var list = new List<uint>();
        for (uint i = 0; i < 64; i++)
        {
            V4l2FmtDesc d = default;
            d.Index = i;
            d.Type = V4l2Api.BufTypeVideoCapture;
            if (Libc.ioctl(_fd, V4l2Api.EnumFmt, &d) < 0) break;
            list.Add(d.PixelFormat);
        }
        return list;
    }

    private List<(int, int)> EnumerateFrameSizes(uint fourcc)
    {
        var list = new List<(int, int)>();
        for (uint i = 0; i < 256; i++)
        {
            V4l2FrmSizeEnum e = default;
            e.Index = i;
            e.PixelFormat = fourcc;
            if (Libc.ioctl(_fd, V4l2Api.EnumFrameSizes, &e) < 0) break;
            if (e.Type == V4l2Api.FrmSizeTypeDiscrete) list.Add(((int)e.Size[0], (int)e.Size[1]));
            else
            {
                list.Add(((int)e.Size[1], (int)e.Size[4])); // stepwise/continuous: record the maximum
                break;
            }
        }
        return list;
    }

    public static uint FourCcOf(PixelFormat format) => format switch
    {
        PixelFormat.Yuyv => V4l2Api.Yuyv,
        PixelFormat.Mjpeg => V4l2Api.Mjpeg,
        PixelFormat.Nv12 => V4l2Api.Nv12,
        PixelFormat.I420 => V4l2Api.Yu12,
        PixelFormat.Rgb24 => V4l2Api.Rgb3,
        PixelFormat.Bgr24 => V4l2Api.Bgr3,
        PixelFormat.Grey => V4l2Api.Grey,
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    private void Check(int result, string what)
    {
        if (result < 0) throw new FrameSourceUnavailableException($"{_device}: {what} failed: {Libc.Describe(Libc.Errno)}");
    }

    private static string CString(byte* p, int max)
    {
        var span = new ReadOnlySpan<byte>(p, max);
        int end = span.IndexOf((byte)0);
        return System.Text.Encoding.ASCII.GetString(end < 0 ? span : span[..end]);
    }

    public void Dispose()
    {
        if (_fd < 0) return;
        if (_streaming)
        {
            int type = (int)V4l2Api.BufTypeVideoCapture;
            Libc.ioctl(_fd, V4l2Api.StreamOff, &type);
            _streaming = false;
        }
        foreach (var (address, length) in _buffers) Libc.munmap((void*)address, length);
        _buffers.Clear();
        Libc.close(_fd);
        _fd = -1;
    }
}
