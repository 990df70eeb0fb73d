namespace EdgeMobileNet.Edge.Imaging;

/// <summary>An 8-bit image with interleaved channels (1 = gray, 3 = RGB), rows top-down, no padding.</summary>
public sealed class RgbImage
{
    public RgbImage(int width, int height, int channels, byte[] pixels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"image size {width}x{height} is empty");
        if (channels is not (1 or 3)) throw new ArgumentException($"images have 1 or 3 channels, not {channels}");
        if (pixels.Length != (long)width * height * channels)
            throw new ArgumentException($"{pixels.Length} bytes do not make a {width}x{height}x{channels} image");
        Width = width;
        Height = height;
        Channels = channels;
        Pixels = pixels;
    }

    public int Width { get; }
    public int Height { get; }
    public int Channels { get; }
    public byte[] Pixels { get; }
}
