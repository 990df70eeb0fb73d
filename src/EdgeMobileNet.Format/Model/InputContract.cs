namespace EdgeMobileNet.Format.Model;

public enum ColorOrder : byte
{
    Rgb = 0,
    Bgr = 1,
    Grayscale = 2,
}

/// <summary>
/// What a user must feed the model's image input: a Width x Height image with Channels channels in
/// <see cref="ColorOrder"/>; each pixel value p in 0..255 becomes (p - Mean[c]) / Std[c] before it is
/// written to an f32 input, or quantized with the input tensor's own quantization for an int8 input.
/// </summary>
public sealed class InputContract
{
    public int Width { get; set; }
    public int Height { get; set; }
    public int Channels { get; set; }
    public ColorOrder ColorOrder { get; set; }
    public float[] Mean { get; set; } = [127.5f, 127.5f, 127.5f];
    public float[] Std { get; set; } = [127.5f, 127.5f, 127.5f];

    public override string ToString() =>
        $"{Width}x{Height}x{Channels} {ColorOrder}, (p - [{string.Join(", ", Mean)}]) / [{string.Join(", ", Std)}]";
}
