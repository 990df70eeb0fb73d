namespace EdgeMobileNet.Tests.Cli;

/// <summary>Writes small uncompressed 24-bit BMP files for tests.</summary>
public static class TestImages
{
    public static void WriteBmp(string path, int width, int height, Func<int, int, (byte R, byte G, byte B)> pixel)
    {
        int rowBytes = (width * 3 + 3) & ~3;
        int imageBytes = rowBytes * height;
        using var w = new BinaryWriter(File.Create(path));
        w.Write((byte)'B'); w.Write((byte)'M');
        w.Write(54 + imageBytes); w.Write(0); w.Write(54);
        w.Write(40); w.Write(width); w.Write(height); w.Write((short)1); w.Write((short)24);
        w.Write(0); w.Write(imageBytes); w.Write(2835); w.Write(2835); w.Write(0); w.Write(0);
        for (int y = height - 1; y >= 0; y--)
        {
            for (int x = 0; x < width; x++)
            {
                var (r, g, b) = pixel(x, y);
                w.Write(b); w.Write(g); w.Write(r);
            }
            for (int p = width * 3; p < rowBytes; p++) w.Write((byte)0);
        }
    }
}
