using EdgeMobileNet.Edge.Frames;
using EdgeMobileNet.Format.Io;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Zoo;

namespace EdgeMobileNet.Tests.Edge;

/// <summary>Reference colour maths (real-valued BT.601) and frame encoders for the edge tests.</summary>
public static class EdgeTestSupport
{
    public static byte Sat(double v) => (byte)Math.Clamp(Math.Round(v, MidpointRounding.AwayFromZero), 0, 255);

    /// <summary>Exact BT.601: limited R = 255/219 (Y-16) + 255/112*0.701 (V-128) ...; full R = Y + 1.402 (V-128) ...</summary>
    public static (double R, double G, double B) YuvToRgbExact(double y, double u, double v, bool full)
    {
        double yy = full ? y : (y - 16) * 255.0 / 219.0;
        double cb = full ? u - 128 : (u - 128) * 255.0 / 224.0;
        double cr = full ? v - 128 : (v - 128) * 255.0 / 224.0;
        return (yy + 1.402 * cr, yy - 0.344136 * cb - 0.714136 * cr, yy + 1.772 * cb);
    }

    public static (byte Y, byte U, byte V) RgbToYuv(int r, int g, int b, bool full)
    {
        double y = 0.299 * r + 0.587 * g + 0.114 * b;
        double cb = (b - y) / 1.772, cr = (r - y) / 1.402;
        if (full) return (Sat(y), Sat(cb + 128), Sat(cr + 128));
        return (Sat(16 + y * 219 / 255), Sat(128 + cb * 224 / 255), Sat(128 + cr * 224 / 255));
    }

    /// <summary>A smooth colourful test pattern (gradients + a disc), so bilinear and chroma subsampling are exercised.</summary>
    public static (byte R, byte G, byte B) Pattern(int x, int y, int w, int h, int seed = 0)
    {
        double cx = x - w / 2.0, cy = y - h / 2.0;
        bool disc = cx * cx + cy * cy < (w * h) / 16.0;
        int r = (x * 255 / Math.Max(1, w - 1) + seed * 37) % 256;
        int g = (y * 255 / Math.Max(1, h - 1) + seed * 11) % 256;
        int b = disc ? 230 - seed * 20 % 200 : (x + y) * 3 % 256;
        return ((byte)r, (byte)g, (byte)b);
    }

    /// <summary>Encodes an RGB image (row-major, 3 bytes per pixel) into a frame of the given format and stride padding.</summary>
    public static FrameBuffer Encode(byte[] rgb, int w, int h, PixelFormat format, bool full, int padding = 0)
    {
        var frame = new FrameBuffer { Range = full ? YuvRange.Full : YuvRange.Limited };
        int stride = FrameBuffer.MinimumStride(format, w) + padding;
        var data = frame.Prepare(format, w, h, stride, FrameBuffer.RequiredBytes(format, w, h, stride));
        data.Fill(0xEE); // padding garbage must never be read
        (byte Y, byte U, byte V) Yuv(int x, int y) => RgbToYuv(rgb[(y * w + x) * 3], rgb[(y * w + x) * 3 + 1], rgb[(y * w + x) * 3 + 2], full);
        (byte U, byte V) Chroma(int x0, int y0, int dx, int dy)
        {
            int su = 0, sv = 0, n = 0;
            for (int yy = y0; yy < Math.Min(h, y0 + dy); yy++)
            for (int xx = x0; xx < Math.Min(w, x0 + dx); xx++)
            {
                var p = Yuv(xx, yy);
                su += p.U; sv += p.V; n++;
            }
            return ((byte)((su + n / 2) / n), (byte)((sv + n / 2) / n));
        }
        int cs = frame.ChromaStride;
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
        {
            int i = (y * w + x) * 3;
            switch (format)
            {
                case PixelFormat.Rgb24: data[y * stride + x * 3] = rgb[i]; data[y * stride + x * 3 + 1] = rgb[i + 1]; data[y * stride + x * 3 + 2] = rgb[i + 2]; break;
                case PixelFormat.Bgr24: data[y * stride + x * 3] = rgb[i + 2]; data[y * stride + x * 3 + 1] = rgb[i + 1]; data[y * stride + x * 3 + 2] = rgb[i]; break;
                case PixelFormat.Grey: data[y * stride + x] = rgb[i + 1]; break;
                case PixelFormat.Yuyv:
                {
                    data[y * stride + (x / 2) * 4 + (x % 2) * 2] = Yuv(x, y).Y;
                    if (x % 2 == 0)
                    {
                        var (u, v) = Chroma(x, y, 2, 1);
                        data[y * stride + (x / 2) * 4 + 1] = u;
                        data[y * stride + (x / 2) * 4 + 3] = v;
                    }
                    break;
                }
                case PixelFormat.Nv12:
                {
                    data[y * stride + x] = Yuv(x, y).Y;
                    if (x % 2 == 0 && y % 2 == 0)
                    {
                        var (u, v) = Chroma(x, y, 2, 2);
                        int c = stride * h + (y / 2) * stride + x;
                        data[c] = u; data[c + 1] = v;
                    }
                    break;
                }
                case PixelFormat.I420:
                {
                    data[y * stride + x] = Yuv(x, y).Y;
                    if (x % 2 == 0 && y % 2 == 0)
                    {
                        var (u, v) = Chroma(x, y, 2, 2);
                        int c = (y / 2) * cs + x / 2;
                        data[stride * h + c] = u;
                        data[stride * h + cs * ((h + 1) / 2) + c] = v;
                    }
                    break;
                }
            }
        }
        return frame;
    }

    /// <summary>
    /// The straightforward reference: each frame pixel to RGB with the exact real-valued BT.601
    /// formulas (rounded), written as a packed RGB (or gray) image for ImagePreprocessor.
    /// </summary>
    public static EdgeMobileNet.Edge.Imaging.RgbImage ReferenceImage(FrameBuffer f, int channels) => Decode(f, channels, false);

    /// <summary>
    /// Each frame pixel's stored components as a 3-channel image: Y, U, V (chroma of its 2x1 or 2x2 block)
    /// for YUV layouts, R, G, B otherwise (B, G, R reordered), so that a test can interpolate components
    /// with ImagePreprocessor and convert afterwards.
    /// </summary>
    public static EdgeMobileNet.Edge.Imaging.RgbImage ComponentImage(FrameBuffer f) => Decode(f, 3, true);

    private static EdgeMobileNet.Edge.Imaging.RgbImage Decode(FrameBuffer f, int channels, bool components)
    {
        bool full = f.Range == YuvRange.Full;
        var pixels = new byte[f.Width * f.Height * channels];
        var d = f.Data;
        int h = f.Height, s = f.Stride, cs = f.ChromaStride;
        for (int y = 0; y < f.Height; y++)
        for (int x = 0; x < f.Width; x++)
        {
            int yv, u = 128, v = 128;
            byte r, g, b;
            bool isYuv = true;
            switch (f.Format)
            {
                case PixelFormat.Yuyv: yv = d[y * s + x * 2]; u = d[y * s + (x / 2) * 4 + 1]; v = d[y * s + (x / 2) * 4 + 3]; break;
                case PixelFormat.Nv12: yv = d[y * s + x]; u = d[s * h + (y / 2) * s + (x / 2) * 2]; v = d[s * h + (y / 2) * s + (x / 2) * 2 + 1]; break;
                case PixelFormat.I420: yv = d[y * s + x]; u = d[s * h + (y / 2) * cs + x / 2]; v = d[s * h + cs * ((h + 1) / 2) + (y / 2) * cs + x / 2]; break;
                default: yv = 0; isYuv = false; break;
            }
            int gray;
            if (isYuv && components)
            {
                (r, g, b) = ((byte)yv, (byte)u, (byte)v);
                gray = 0;
            }
            else if (isYuv)
            {
                var (rr, gg, bb) = YuvToRgbExact(yv, u, v, full);
                (r, g, b) = (Sat(rr), Sat(gg), Sat(bb));
                gray = full ? yv : Sat((yv - 16) * 255.0 / 219.0);
            }
            else if (f.Format == PixelFormat.Grey)
            {
                r = g = b = d[y * s + x];
                gray = r;
            }
            else
            {
                int o = y * s + x * 3;
                (r, g, b) = f.Format == PixelFormat.Rgb24 ? (d[o], d[o + 1], d[o + 2]) : (d[o + 2], d[o + 1], d[o]);
                gray = Sat(0.299 * r + 0.587 * g + 0.114 * b);
            }
            int p = (y * f.Width + x) * channels;
            if (channels == 1) pixels[p] = (byte)gray;
            else { pixels[p] = r; pixels[p + 1] = g; pixels[p + 2] = b; }
        }
        return new EdgeMobileNet.Edge.Imaging.RgbImage(f.Width, f.Height, channels, pixels);
    }

    public static byte[] PatternRgb(int w, int h, int seed = 0)
    {
        var rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
        {
            var (r, g, b) = Pattern(x, y, w, h, seed);
            rgb[(y * w + x) * 3] = r; rgb[(y * w + x) * 3 + 1] = g; rgb[(y * w + x) * 3 + 2] = b;
        }
        return rgb;
    }

    /// <summary>Writes a Y4M (C420jpeg, progressive) file from RGB frames.</summary>
    public static void WriteY4m(string path, int w, int h, int fps, IEnumerable<byte[]> rgbFrames)
    {
        using var file = File.Create(path);
        file.Write(System.Text.Encoding.ASCII.GetBytes($"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg XYSCSS=420JPEG\n"));
        foreach (var rgb in rgbFrames)
        {
            var frame = Encode(rgb, w, h, PixelFormat.I420, full: false);
            file.Write("FRAME\n"u8);
            file.Write(frame.Data, 0, frame.Length);
        }
    }

    private static readonly Lazy<(ModelDefinition F32, ModelDefinition Int8)> Models = new(() =>
    {
        var f32 = MobileNetV1.Build(0.25f, 64, 10, 7);
        var calibration = PostTrainingQuantizer.SyntheticCalibration(f32, 2, 8).ToList();
        return (f32, PostTrainingQuantizer.Quantize(f32, calibration));
    });

    /// <summary>A small generated MobileNet V1 (alpha 0.25, 64x64, 10 classes), f32 and int8.</summary>
    public static (ModelDefinition F32, ModelDefinition Int8) SmallModels => Models.Value;

    public static string WriteModel(string directory, ModelDefinition model, string name)
    {
        string path = Path.Combine(directory, name);
        EmnWriter.WriteFile(model, path);
        return path;
    }
}

public sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "emn-edge-" + Guid.NewGuid().ToString("N")[..10]);
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose()
    {
        try { Directory.Delete(Path, true); } catch (IOException) { }
    }
}
