using StbImageSharp;

namespace EdgeMobileNet.Edge.Imaging;

public sealed class ImageDecodeException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Decodes JPEG, PNG, BMP (and the other formats stb_image reads) to 8-bit gray or RGB.</summary>
public static class ImageDecoder
{
    /// <summary>Largest image accepted, so a hostile header cannot request gigabytes.</summary>
    public const int MaxPixels = 64 * 1024 * 1024;

    public static RgbImage DecodeFile(string path, int channels)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageDecodeException($"{path}: cannot read image: {e.Message}", e);
        }
        return Decode(bytes, channels, path);
    }

    public static RgbImage Decode(byte[] bytes, int channels, string sourceName)
    {
        var components = channels == 1 ? ColorComponents.Grey : ColorComponents.RedGreenBlue;
        try
        {
            var info = ImageInfo.FromStream(new MemoryStream(bytes, writable: false));
            if (info is null) throw new ImageDecodeException($"{sourceName}: not a JPEG, PNG or BMP image (unrecognised header)");
            if ((long)info.Value.Width * info.Value.Height > MaxPixels)
                throw new ImageDecodeException($"{sourceName}: image {info.Value.Width}x{info.Value.Height} is larger than {MaxPixels} pixels");
            var result = ImageResult.FromMemory(bytes, components);
            return new RgbImage(result.Width, result.Height, channels, result.Data);
        }
        catch (ImageDecodeException)
        {
            throw;
        }
        catch (Exception e)
        {
            throw new ImageDecodeException($"{sourceName}: cannot decode image: {e.Message}", e);
        }
    }
}
