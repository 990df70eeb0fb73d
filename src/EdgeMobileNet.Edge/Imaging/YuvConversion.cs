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

/// <summary>
/// Reads one pixel of a raw frame as R'G'B' or gray, whatever its layout. A readonly struct so the
/// preprocessor's generic loop inlines it; the switch on format is hoisted by the branch predictor.
/// </summary>
public readonly struct FramePixelReader
{
    private readonly byte[] _data;
    private readonly int _stride, _chromaStride, _chromaOffset, _vOffset;
    private readonly PixelFormat _format;
    private readonly bool _full;

    public FramePixelReader(FrameBuffer frame)
    {
        _data = frame.Data;
        _stride = frame.Stride;
        _chromaStride = frame.ChromaStride;
        _format = frame.Format;
        _full = frame.Range == YuvRange.Full;
        _chromaOffset = frame.Stride * frame.Height;
        _vOffset = _chromaOffset + frame.ChromaStride * ((frame.Height + 1) / 2);
        if (_format == PixelFormat.Mjpeg) throw new ArgumentException("MJPEG frames must be decoded before reading pixels");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Read(int x, int y, out int r, out int g, out int b)
    {
        var d = _data;
        switch (_format)
        {
            case PixelFormat.Yuyv:
            {
                int o = y * _stride + (x >> 1) * 4;
                YuvConversion.ToRgb(d[o + ((x & 1) << 1)], d[o + 1], d[o + 3], _full, out r, out g, out b);
                return;
            }
            case PixelFormat.Nv12:
            {
                int c = _chromaOffset + (y >> 1) * _chromaStride + (x & ~1);
                YuvConversion.ToRgb(d[y * _stride + x], d[c], d[c + 1], _full, out r, out g, out b);
                return;
            }
            case PixelFormat.I420:
            {
                int c = (y >> 1) * _chromaStride + (x >> 1);
                YuvConversion.ToRgb(d[y * _stride + x], d[_chromaOffset + c], d[_vOffset + c], _full, out r, out g, out b);
                return;
            }
            case PixelFormat.Rgb24:
            {
                int o = y * _stride + x * 3;
                r = d[o]; g = d[o + 1]; b = d[o + 2];
                return;
            }
            case PixelFormat.Bgr24:
            {
                int o = y * _stride + x * 3;
                b = d[o]; g = d[o + 1]; r = d[o + 2];
                return;
            }
            default:
                r = g = b = d[y * _stride + x];
                return;
        }
    }

    /// <summary>Gray value: the luma plane for YUV formats (expanded to full range), BT.601 luma for RGB.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadGray(int x, int y)
    {
        switch (_format)
        {
            case PixelFormat.Yuyv:
                return YuvConversion.LumaToGray(_data[y * _stride + (x >> 1) * 4 + ((x & 1) << 1)], _full);
            case PixelFormat.Nv12:
            case PixelFormat.I420:
                return YuvConversion.LumaToGray(_data[y * _stride + x], _full);
            case PixelFormat.Grey:
                return _data[y * _stride + x];
            default:
                Read(x, y, out int r, out int g, out int b);
                return YuvConversion.RgbToGray(r, g, b);
        }
    }
}
