using EdgeMobileNet.Edge.Frames;
using StbImageSharp;

namespace EdgeMobileNet.Edge.Imaging;

/// <summary>
/// Decodes MJPEG frames (one JPEG each) into an RGB24 frame with StbImageSharp. The compressed bytes
/// go through a reused buffer and stream; stb_image returns a fresh pixel array per frame (its public
/// API has no decode-into), which is copied into the reusable frame: MJPEG is the one format that
/// allocates per frame (about width x height x 3 bytes, short-lived). Corrupt frames return false.
/// </summary>
public sealed class MjpegDecoder
{
    private byte[] _compressed = new byte[256 * 1024];
    public long CorruptFrames { get; private set; }

    public bool TryDecode(ReadOnlySpan<byte> jpeg, FrameBuffer frame)
    {
        // Needs SOI at the start and EOI (FF D9) in the tail (some UVC cameras pad after it): a
        // truncated frame is rejected before stb_image sees it (it was seen to hang on one).
        if (jpeg.Length < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8 || jpeg[^Math.Min(jpeg.Length - 2, 64)..].IndexOf([(byte)0xFF, (byte)0xD9]) < 0)
        {
            CorruptFrames++;
            return false;
        }
        if (_compressed.Length < jpeg.Length) _compressed = new byte[jpeg.Length * 2];
        jpeg.CopyTo(_compressed);
        try
        {
            using var stream = new MemoryStream(_compressed, 0, jpeg.Length, writable: false);
            var image = ImageResult.FromStream(stream, ColorComponents.RedGreenBlue);
            if ((long)image.Width * image.Height > ImageDecoder.MaxPixels) throw new ImageDecodeException("too large");
            int stride = image.Width * 3;
            image.Data.AsSpan(0, stride * image.Height).CopyTo(frame.Prepare(PixelFormat.Rgb24, image.Width, image.Height, stride, stride * image.Height));
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            CorruptFrames++;
            return false;
        }
    }
}
