using EdgeMobileNet.Format.Model;

namespace EdgeMobileNet.Edge.Imaging;

/// <summary>
/// Turns an 8-bit image into a model's NHWC input tensor in one pass: centre crop to the model's
/// aspect ratio, bilinear resize, channel order, then normalization per the input contract
/// ((p - mean) / std) for an f32 input, or quantization with the input tensor's scale and zero point
/// for an int8 input. Holds its sampling tables, so repeated calls for one image size allocate nothing.
/// </summary>
public sealed class ImagePreprocessor
{
    private readonly InputContract _contract;
    private readonly TensorDefinition _input;
    private int _cachedWidth = -1, _cachedHeight = -1;
    private int[] _x0 = [], _x1 = [], _y0 = [], _y1 = [];
    private float[] _fx = [], _fy = [];

    public ImagePreprocessor(InputContract contract, TensorDefinition input)
    {
        if (input.Shape.Length != 4 || input.Shape[0] != 1)
            throw new ArgumentException($"input '{input.Name}' {input.ShapeText} is not a single NHWC image");
        if (input.Shape[1] != contract.Height || input.Shape[2] != contract.Width || input.Shape[3] != contract.Channels)
            throw new ArgumentException($"input contract {contract.Width}x{contract.Height}x{contract.Channels} does not match input '{input.Name}' {input.ShapeText}");
        if (contract.Channels is not (1 or 3))
            throw new ArgumentException($"input contract has {contract.Channels} channels; images give 1 or 3");
        if (input.DataType == DataType.Int8 && input.Quantization is null)
            throw new ArgumentException($"int8 input '{input.Name}' has no quantization");
        _contract = contract;
        _input = input;
    }

    /// <summary>Channels the image should be decoded with.</summary>
    public int ImageChannels => _contract.Channels;

    public void WriteF32(RgbImage image, Span<float> tensor) => Run(image, new F32Sink(tensor, _contract));

    public void WriteInt8(RgbImage image, Span<sbyte> tensor) =>
        Run(image, new Int8Sink(tensor, _contract, _input.Quantization!));

    private void Run<TSink>(RgbImage image, TSink sink) where TSink : IPixelSink, allows ref struct
    {
        if (image.Channels != _contract.Channels)
            throw new ArgumentException($"image has {image.Channels} channels, the model wants {_contract.Channels}");
        PrepareTables(image.Width, image.Height);
        int w = _contract.Width, h = _contract.Height, c = _contract.Channels;
        bool bgr = _contract.ColorOrder == ColorOrder.Bgr;
        var src = image.Pixels;
        int stride = image.Width * c;
        for (int y = 0; y < h; y++)
        {
            int row0 = _y0[y] * stride, row1 = _y1[y] * stride;
            float fy = _fy[y];
            for (int x = 0; x < w; x++)
            {
                int col0 = _x0[x] * c, col1 = _x1[x] * c;
                float fx = _fx[x];
                for (int k = 0; k < c; k++)
                {
                    int sk = bgr ? c - 1 - k : k;
                    float top = src[row0 + col0 + sk] + (src[row0 + col1 + sk] - src[row0 + col0 + sk]) * fx;
                    float bottom = src[row1 + col0 + sk] + (src[row1 + col1 + sk] - src[row1 + col0 + sk]) * fx;
                    sink.Write((y * w + x) * c + k, k, top + (bottom - top) * fy);
                }
            }
        }
    }

    /// <summary>Source sample positions for the central crop with the model's aspect ratio (pixel-centre aligned).</summary>
    private void PrepareTables(int width, int height)
    {
        if (width == _cachedWidth && height == _cachedHeight) return;
        double targetAspect = (double)_contract.Width / _contract.Height;
        double cropW = width, cropH = height;
        if (width > height * targetAspect) cropW = height * targetAspect;
        else cropH = width / targetAspect;
        (_x0, _x1, _fx) = Axis(width, cropW, _contract.Width);
        (_y0, _y1, _fy) = Axis(height, cropH, _contract.Height);
        _cachedWidth = width;
        _cachedHeight = height;
    }

    private static (int[] I0, int[] I1, float[] F) Axis(int size, double crop, int outSize)
    {
        var i0 = new int[outSize];
        var i1 = new int[outSize];
        var f = new float[outSize];
        double start = (size - crop) / 2;
        double step = crop / outSize;
        for (int o = 0; o < outSize; o++)
        {
            double pos = Math.Clamp(start + (o + 0.5) * step - 0.5, 0, size - 1);
            int p0 = (int)pos;
            i0[o] = p0;
            i1[o] = Math.Min(p0 + 1, size - 1);
            f[o] = (float)(pos - p0);
        }
        return (i0, i1, f);
    }

    private interface IPixelSink
    {
        void Write(int index, int channel, float pixel);
    }

    private readonly ref struct F32Sink(Span<float> tensor, InputContract contract) : IPixelSink
    {
        private readonly Span<float> _tensor = tensor;
        public void Write(int index, int channel, float pixel) =>
            _tensor[index] = (pixel - contract.Mean[channel]) / contract.Std[channel];
    }

    private readonly ref struct Int8Sink(Span<sbyte> tensor, InputContract contract, QuantizationInfo q) : IPixelSink
    {
        private readonly Span<sbyte> _tensor = tensor;
        public void Write(int index, int channel, float pixel)
        {
            float real = (pixel - contract.Mean[channel]) / contract.Std[channel];
            _tensor[index] = (sbyte)Math.Clamp(MathF.Round(real / q.Scale, MidpointRounding.AwayFromZero) + q.ZeroPoint, -128, 127);
        }
    }
}
