using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Edge.Classification;
using EdgeMobileNet.Edge.Imaging;
using EdgeMobileNet.Format.Model;
using Xunit;

namespace EdgeMobileNet.Tests.Edge;

public class ImagePreprocessorTests
{
    private static (InputContract, TensorDefinition) Model(int w, int h, int c, DataType type, ColorOrder order = ColorOrder.Rgb)
    {
        var contract = new InputContract { Width = w, Height = h, Channels = c, ColorOrder = order };
        var quant = type == DataType.Int8 ? QuantizationInfo.PerTensor(2f / 255, -1) : null;
        return (contract, new TensorDefinition("input", type, [1, h, w, c], quant));
    }

    private static RgbImage Image(int w, int h, int c, Func<int, int, int, byte> pixel)
    {
        var pixels = new byte[w * h * c];
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
        for (int k = 0; k < c; k++)
            pixels[(y * w + x) * c + k] = pixel(x, y, k);
        return new RgbImage(w, h, c, pixels);
    }

    [Fact]
    public void SameSizeImageIsNormalizedPixelForPixel()
    {
        var (contract, input) = Model(5, 4, 3, DataType.Float32);
        var image = Image(5, 4, 3, (x, y, k) => (byte)(x * 40 + y * 10 + k));
        var tensor = new float[5 * 4 * 3];
        new ImagePreprocessor(contract, input).WriteF32(image, tensor);
        for (int i = 0; i < tensor.Length; i++)
            Assert.Equal((image.Pixels[i] - 127.5f) / 127.5f, tensor[i], 5);
    }

    [Fact]
    public void BgrModelGetsChannelsReversed()
    {
        var (contract, input) = Model(2, 2, 3, DataType.Float32, ColorOrder.Bgr);
        var image = Image(2, 2, 3, (_, _, k) => (byte)(k * 100));
        var tensor = new float[12];
        new ImagePreprocessor(contract, input).WriteF32(image, tensor);
        Assert.Equal((200 - 127.5f) / 127.5f, tensor[0], 5);
        Assert.Equal((0 - 127.5f) / 127.5f, tensor[2], 5);
    }

    [Fact]
    public void WideImageIsCentreCropped()
    {
        // Left and right thirds are black, the centre square white: the square model input sees only white.
        var (contract, input) = Model(8, 8, 1, DataType.Float32);
        var image = Image(30, 10, 1, (x, _, _) => x is >= 10 and < 20 ? (byte)255 : (byte)0);
        var tensor = new float[64];
        new ImagePreprocessor(contract, input).WriteF32(image, tensor);
        Assert.All(tensor, v => Assert.Equal(1f, v, 5));
    }

    [Fact]
    public void Int8InputIsQuantizedWithTheInputScale()
    {
        var (contract, input) = Model(3, 3, 1, DataType.Int8);
        var image = Image(3, 3, 1, (x, y, _) => (byte)(x * 120 + y * 5));
        var tensor = new sbyte[9];
        new ImagePreprocessor(contract, input).WriteInt8(image, tensor);
        for (int i = 0; i < 9; i++)
        {
            float real = (image.Pixels[i] - 127.5f) / 127.5f;
            int expected = (int)Math.Clamp(MathF.Round(real / (2f / 255), MidpointRounding.AwayFromZero) - 1, -128, 127);
            Assert.Equal(expected, tensor[i]);
        }
    }

    [Fact]
    public void DownscaleAveragesNeighbours()
    {
        var (contract, input) = Model(2, 1, 1, DataType.Float32);
        var image = Image(4, 2, 1, (x, _, _) => (byte)(x * 60));
        var tensor = new float[2];
        new ImagePreprocessor(contract, input).WriteF32(image, tensor);
        // Output pixel 0 samples between source pixels 0 and 1 (values 0 and 60) -> 30.
        Assert.Equal((30 - 127.5f) / 127.5f, tensor[0], 4);
        Assert.Equal((150 - 127.5f) / 127.5f, tensor[1], 4);
    }

    [Fact]
    public void RepeatedPreprocessingAllocatesNothing()
    {
        var (contract, input) = Model(32, 32, 3, DataType.Int8);
        var image = Image(64, 48, 3, (x, y, k) => (byte)(x ^ y ^ k));
        var tensor = new sbyte[32 * 32 * 3];
        var pre = new ImagePreprocessor(contract, input);
        Assert.Equal(0, AllocationMeter.SteadyStateBytes(() => pre.WriteInt8(image, tensor), callsPerWindow: 10));
    }

    [Fact]
    public void ChannelMismatchIsAnError()
    {
        var (contract, input) = Model(4, 4, 3, DataType.Float32);
        var gray = Image(4, 4, 1, (_, _, _) => 0);
        Assert.Throws<ArgumentException>(() => new ImagePreprocessor(contract, input).WriteF32(gray, new float[48]));
    }

    [Fact]
    public void TopKOrdersByScoreThenClass()
    {
        float[] scores = [0.1f, 0.5f, 0.2f, 0.5f, 0.05f, 0.9f];
        var best = new (int Class, float Score)[3];
        Assert.Equal(3, ImageClassifier.TopK(scores, best));
        Assert.Equal([(5, 0.9f), (1, 0.5f), (3, 0.5f)], best);
        var all = new (int Class, float Score)[10];
        Assert.Equal(6, ImageClassifier.TopK(scores, all));
        Assert.Equal(4, all[5].Class);
    }
}
