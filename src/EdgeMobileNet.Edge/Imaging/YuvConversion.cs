using System.Numerics;
using System.Runtime.CompilerServices;
using EdgeMobileNet.Edge.Frames;

namespace EdgeMobileNet.Edge.Imaging;

/// <summary>
/// BT.601 Y'CbCr to R'G'B' in 8-bit fixed point (coefficients scaled by 256, rounded), for limited
/// range (Y 16..235, C 16..240: V4L2 webcams, libcamera video) and full range (JPEG). Results are
/// clamped to 0..255 and within one step of the exact real-valued conversion.
/// </summary>
public static class YuvConversion
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ToRgb(int y, int u, int v, bool fullRange, out int r, out int g, out int b)
    {
        int d = u - 128, e = v - 128;
        if (fullRange)
        {
            int c = y << 8;
            r = Clamp((c + 359 * e + 128) >> 8);
            g = Clamp((c - 88 * d - 183 * e + 128) >> 8);
            b = Clamp((c + 454 * d + 128) >> 8);
        }
        else
        {
            int c = 298 * (y - 16);
            r = Clamp((c + 409 * e + 128) >> 8);
            g = Clamp((c - 100 * d - 208 * e + 128) >> 8);
            b = Clamp((c + 516 * d + 128) >> 8);
        }
    }

    /// <summary>Gray (full-range luma) from Y: unchanged for full range, expanded from 16..235 for limited.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int LumaToGray(int y, bool fullRange) => fullRange ? y : Clamp((298 * (y - 16) + 128) >> 8);

    /// <summary>BT.601 luma of an RGB pixel, full range: (77 R + 150 G + 29 B + 128) / 256.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RgbToGray(int r, int g, int b) => (77 * r + 150 * g + 29 * b + 128) >> 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Clamp(int x) => x < 0 ? 0 : x > 255 ? 255 : x;

    /// <summary>
    /// Converts a whole frame to a packed RGB (or gray) image: the straightforward, slow path used as
    /// a reference and for demos. <paramref name="channels"/> is 3 (RGB) or 1 (gray).
    /// </summary>
    public static RgbImage ToImage(FrameBuffer frame, int channels)
    {
        var pixels = new byte[frame.Width * frame.Height * channels];
        var reader = new FramePixelReader(frame);
        for (int y = 0; y < frame.Height; y++)
        for (int x = 0; x < frame.Width; x++)
        {
            reader.Read(x, y, out int r, out int g, out int b);
            int o = (y * frame.Width + x) * channels;
            if (channels == 1)
            {
                pixels[o] = (byte)reader.ReadGray(x, y);
            }
            else
            {
                pixels[o] = (byte)r;
                pixels[o + 1] = (byte)g;
                pixels[o + 2] = (byte)b;
            }
        }
        return new RgbImage(frame.Width, frame.Height, channels, pixels);
    }
}

/// <summary>Reads one pixel of one raw frame layout as R'G'B' or as gray (full-range luma).</summary>
public interface IPixelReader
{
    void Read(int x, int y, out int r, out int g, out int b);
    int ReadGray(int x, int y);

    /// <summary>The pixel's stored components: Y, U, V for YUV layouts, R, G, B otherwise.</summary>
    void ReadRaw(int x, int y, out int c0, out int c1, out int c2);

    /// <summary>
    /// Where row <paramref name="y"/> of each stored component starts in the frame's bytes: component k of pixel (x, y)
    /// (<see cref="ReadRaw"/>) is the byte at the row start k plus the column offset k (<see cref="ColumnOffsets"/>).
    /// </summary>
    void RowStarts(int y, out int c0, out int c1, out int c2);

    /// <summary>Each stored component's byte offset for column <paramref name="x"/> from its row start (<see cref="RowStarts"/>).</summary>
    void ColumnOffsets(int x, out int c0, out int c1, out int c2);

    /// <summary>
    /// R'G'B' (0..255, unrounded) of components from <see cref="ReadRaw"/>, possibly interpolated: so a resize
    /// can interpolate the stored components and convert once per output pixel. The conversion is affine and
    /// a blend of in-gamut colours stays in gamut, so this equals converting the neighbours first (up to rounding).
    /// </summary>
    void ToRgb(float c0, float c1, float c2, out float r, out float g, out float b);

    /// <summary>
    /// <see cref="ToRgb(float, float, float, out float, out float, out float)"/> on a vector of pixels: the same
    /// operations in the same order per lane, so each lane's result equals the scalar one bit for bit.
    /// </summary>
    void ToRgb(Vector<float> c0, Vector<float> c1, Vector<float> c2, out Vector<float> r, out Vector<float> g, out Vector<float> b);
}

/// <summary>
/// Exact BT.601 Y'CbCr to R'G'B' in float for interpolated components, clamped to 0..255: on one pixel and on a vector of
/// pixels, the same operations in the same order (no fused multiply-add), so both give the same bits.
/// </summary>
internal static class Bt601
{
    // Full range (JPEG): R = Y + 1.402 Cr, G = Y - 0.344136 Cb - 0.714136 Cr, B = Y + 1.772 Cb.
    private const float FullRCr = 1.402f, FullGCb = 0.344136f, FullGCr = 0.714136f, FullBCb = 1.772f;
    // Limited range (Y 16..235, C 16..240): the same with Y scaled by 255/219 and C by 255/224.
    private const float LimitedY = 1.1643836f, LimitedRCr = 1.5960268f, LimitedGCb = 0.3917623f, LimitedGCr = 0.8129676f, LimitedBCb = 2.0172321f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ToRgb(float y, float u, float v, bool full, out float r, out float g, out float b)
    {
        float d = u - 128f, e = v - 128f;
        if (full)
        {
            r = Clamp(y + FullRCr * e);
            g = Clamp(y - FullGCb * d - FullGCr * e);
            b = Clamp(y + FullBCb * d);
        }
        else
        {
            float c = LimitedY * (y - 16f);
            r = Clamp(c + LimitedRCr * e);
            g = Clamp(c - LimitedGCb * d - LimitedGCr * e);
            b = Clamp(c + LimitedBCb * d);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ToRgb(Vector<float> y, Vector<float> u, Vector<float> v, bool full, out Vector<float> r, out Vector<float> g,
        out Vector<float> b)
    {
        var half = new Vector<float>(128f);
        Vector<float> d = u - half, e = v - half;
        if (full)
        {
            r = Clamp(y + FullRCr * e);
            g = Clamp(y - FullGCb * d - FullGCr * e);
            b = Clamp(y + FullBCb * d);
        }
        else
        {
            var c = LimitedY * (y - new Vector<float>(16f));
            r = Clamp(c + LimitedRCr * e);
            g = Clamp(c - LimitedGCb * d - LimitedGCr * e);
            b = Clamp(c + LimitedBCb * d);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Clamp(float x) => float.ClampNative(x, 0f, 255f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Clamp(Vector<float> x) => Vector.ClampNative(x, Vector<float>.Zero, new Vector<float>(255f));
}

/// <summary>A pixel's stored components read through its reader's row starts and column offsets.</summary>
internal static class Addressing
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Read<TReader>(in TReader reader, byte[] data, int x, int y, out int c0, out int c1, out int c2)
        where TReader : struct, IPixelReader
    {
        reader.RowStarts(y, out int r0, out int r1, out int r2);
        reader.ColumnOffsets(x, out int o0, out int o1, out int o2);
        c0 = data[r0 + o0];
        c1 = data[r1 + o1];
        c2 = data[r2 + o2];
    }

    /// <summary>The first stored component (Y of a YUV layout): the luma a gray reading takes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ReadFirst<TReader>(in TReader reader, byte[] data, int x, int y) where TReader : struct, IPixelReader
    {
        reader.RowStarts(y, out int r0, out _, out _);
        reader.ColumnOffsets(x, out int o0, out _, out _);
        return data[r0 + o0];
    }
}

/// <summary>Packed 4:2:2 Y0 U Y1 V.</summary>
public readonly struct YuyvReader(FrameBuffer frame) : IPixelReader
{
    private readonly byte[] _data = frame.Data;
    private readonly int _stride = frame.Stride;
    private readonly bool _full = frame.Range == YuvRange.Full;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Read(int x, int y, out int r, out int g, out int b)
    {
        ReadRaw(x, y, out int luma, out int u, out int v);
        YuvConversion.ToRgb(luma, u, v, _full, out r, out g, out b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadGray(int x, int y) => YuvConversion.LumaToGray(Addressing.ReadFirst(this, _data, x, y), _full);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ReadRaw(int x, int y, out int c0, out int c1, out int c2) => Addressing.Read(this, _data, x, y, out c0, out c1, out c2);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void RowStarts(int y, out int c0, out int c1, out int c2) => c0 = c1 = c2 = y * _stride;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ColumnOffsets(int x, out int c0, out int c1, out int c2)
    {
        int pair = (x >> 1) * 4; // Y0 U Y1 V
        c0 = pair + ((x & 1) << 1);
        c1 = pair + 1;
        c2 = pair + 3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ToRgb(float c0, float c1, float c2, out float r, out float g, out float b) => Bt601.ToRgb(c0, c1, c2, _full, out r, out g, out b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ToRgb(Vector<float> c0, Vector<float> c1, Vector<float> c2, out Vector<float> r, out Vector<float> g, out Vector<float> b) =>
        Bt601.ToRgb(c0, c1, c2, _full, out r, out g, out b);
}

/// <summary>Planar 4:2:0: the Y plane, then interleaved UV (NV12) or U and V planes (I420).</summary>
public readonly struct Yuv420Reader(FrameBuffer frame) : IPixelReader
{
    private readonly byte[] _data = frame.Data;
    private readonly int _stride = frame.Stride, _chromaStride = frame.ChromaStride;
    private readonly int _chromaOffset = frame.Stride * frame.Height;
    private readonly int _vOffset = frame.Stride * frame.Height + frame.ChromaStride * ((frame.Height + 1) / 2);
    private readonly bool _interleaved = frame.Format == PixelFormat.Nv12, _full = frame.Range == YuvRange.Full;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Read(int x, int y, out int r, out int g, out int b)
    {
        ReadRaw(x, y, out int luma, out int u, out int v);
        YuvConversion.ToRgb(luma, u, v, _full, out r, out g, out b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadGray(int x, int y) => YuvConversion.LumaToGray(Addressing.ReadFirst(this, _data, x, y), _full);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ReadRaw(int x, int y, out int c0, out int c1, out int c2) => Addressing.Read(this, _data, x, y, out c0, out c1, out c2);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void RowStarts(int y, out int c0, out int c1, out int c2)
    {
        c0 = y * _stride;
        c1 = _chromaOffset + (y >> 1) * _chromaStride;
        c2 = _interleaved ? c1 : _vOffset + (y >> 1) * _chromaStride;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ColumnOffsets(int x, out int c0, out int c1, out int c2)
    {
        c0 = x;
        c1 = _interleaved ? x & ~1 : x >> 1; // NV12: U V pairs; I420: one sample per two columns in each plane
        c2 = _interleaved ? c1 + 1 : c1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ToRgb(float c0, float c1, float c2, out float r, out float g, out float b) => Bt601.ToRgb(c0, c1, c2, _full, out r, out g, out b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ToRgb(Vector<float> c0, Vector<float> c1, Vector<float> c2, out Vector<float> r, out Vector<float> g, out Vector<float> b) =>
        Bt601.ToRgb(c0, c1, c2, _full, out r, out g, out b);
}

/// <summary>Packed 24-bit RGB or BGR.</summary>
public readonly struct Rgb24Reader(FrameBuffer frame) : IPixelReader
{
    private readonly byte[] _data = frame.Data;
    private readonly int _stride = frame.Stride, _red = frame.Format == PixelFormat.Bgr24 ? 2 : 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Read(int x, int y, out int r, out int g, out int b) => Addressing.Read(this, _data, x, y, out r, out g, out b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadGray(int x, int y)
    {
        Read(x, y, out int r, out int g, out int b);
        return YuvConversion.RgbToGray(r, g, b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ReadRaw(int x, int y, out int c0, out int c1, out int c2) => Read(x, y, out c0, out c1, out c2);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void RowStarts(int y, out int c0, out int c1, out int c2) => c0 = c1 = c2 = y * _stride;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ColumnOffsets(int x, out int c0, out int c1, out int c2)
    {
        c0 = x * 3 + _red;
        c1 = x * 3 + 1;
        c2 = x * 3 + 2 - _red;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ToRgb(float c0, float c1, float c2, out float r, out float g, out float b) => (r, g, b) = (c0, c1, c2);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ToRgb(Vector<float> c0, Vector<float> c1, Vector<float> c2, out Vector<float> r, out Vector<float> g, out Vector<float> b) =>
        (r, g, b) = (c0, c1, c2);
}

/// <summary>8-bit gray.</summary>
public readonly struct GreyReader(FrameBuffer frame) : IPixelReader
{
    private readonly byte[] _data = frame.Data;
    private readonly int _stride = frame.Stride;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Read(int x, int y, out int r, out int g, out int b) => r = g = b = ReadGray(x, y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadGray(int x, int y) => Addressing.ReadFirst(this, _data, x, y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ColumnOffsets(int x, out int c0, out int c1, out int c2) => c0 = c1 = c2 = x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ReadRaw(int x, int y, out int c0, out int c1, out int c2) => Read(x, y, out c0, out c1, out c2);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void RowStarts(int y, out int c0, out int c1, out int c2) => c0 = c1 = c2 = y * _stride;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ToRgb(float c0, float c1, float c2, out float r, out float g, out float b) => (r, g, b) = (c0, c1, c2);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ToRgb(Vector<float> c0, Vector<float> c1, Vector<float> c2, out Vector<float> r, out Vector<float> g, out Vector<float> b) =>
        (r, g, b) = (c0, c1, c2);
}

/// <summary>
/// Reads one pixel of a raw frame whatever its layout as R'G'B' or gray (a switch per pixel: for the whole-frame
/// conversion and tests; the preprocessor's loop is specialized per layout through <see cref="IPixelReader"/>).
/// </summary>
public readonly struct FramePixelReader
{
    private readonly PixelFormat _format;
    private readonly YuyvReader _yuyv;
    private readonly Yuv420Reader _yuv420;
    private readonly Rgb24Reader _rgb;
    private readonly GreyReader _grey;

    public FramePixelReader(FrameBuffer frame)
    {
        if (frame.Format == PixelFormat.Mjpeg) throw new ArgumentException("MJPEG frames must be decoded before reading pixels");
        _format = frame.Format;
        _yuyv = new YuyvReader(frame);
        _yuv420 = new Yuv420Reader(frame);
        _rgb = new Rgb24Reader(frame);
        _grey = new GreyReader(frame);
    }

    public void Read(int x, int y, out int r, out int g, out int b)
    {
        switch (_format)
        {
            case PixelFormat.Yuyv: _yuyv.Read(x, y, out r, out g, out b); return;
            case PixelFormat.Nv12 or PixelFormat.I420: _yuv420.Read(x, y, out r, out g, out b); return;
            case PixelFormat.Rgb24 or PixelFormat.Bgr24: _rgb.Read(x, y, out r, out g, out b); return;
            default: _grey.Read(x, y, out r, out g, out b); return;
        }
    }

    /// <summary>Gray value: the luma plane for YUV formats (expanded to full range), BT.601 luma for RGB.</summary>
    public int ReadGray(int x, int y) => _format switch
    {
        PixelFormat.Yuyv => _yuyv.ReadGray(x, y),
        PixelFormat.Nv12 or PixelFormat.I420 => _yuv420.ReadGray(x, y),
        PixelFormat.Rgb24 or PixelFormat.Bgr24 => _rgb.ReadGray(x, y),
        _ => _grey.ReadGray(x, y),
    };
}
