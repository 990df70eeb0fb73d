using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Kernels.Conformance;

/// <summary>
/// Generates the shapes and quantization parameters kernels are checked over: channel counts that are
/// not multiples of any vector width, 1..N pixels of remainder, strides 1 and 2, asymmetric padding,
/// depth multipliers, and int8 parameters at their extremes.
/// </summary>
public sealed class ConformanceGenerator(int seed)
{
    private static readonly int[] OddChannels = [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 23, 24, 31, 32, 33, 63, 65];
    private readonly Random _random = new(seed);

    public Random Random => _random;

    public int Channels() => OddChannels[_random.Next(OddChannels.Length)];

    /// <summary>A convolution geometry; depthwise when <paramref name="depthMultiplier"/> > 0.</summary>
    public ConvGeometry Convolution(int kernel, int depthMultiplier = 0)
    {
        int stride = _random.Next(1, 3);
        int dilation = kernel > 1 && _random.Next(4) == 0 ? 2 : 1;
        int inH = _random.Next(1, 12), inW = _random.Next(1, 12);
        int effective = (kernel - 1) * dilation + 1;
        int padTop = _random.Next(0, effective), padBottom = _random.Next(0, effective);
        int padLeft = _random.Next(0, effective), padRight = _random.Next(0, effective);
        inH = Math.Max(inH, effective - padTop - padBottom);
        inW = Math.Max(inW, effective - padLeft - padRight);
        int inC = Channels();
        int multiplier = depthMultiplier > 0 ? depthMultiplier : 1;
        int outC = depthMultiplier > 0 ? inC * depthMultiplier : Channels();
        return new ConvGeometry(_random.Next(1, 3), inH, inW, inC,
            ConvGeometry.OutputSize(inH, kernel, stride, dilation, padTop, padBottom),
            ConvGeometry.OutputSize(inW, kernel, stride, dilation, padLeft, padRight),
            outC, kernel, kernel, stride, stride, dilation, dilation, padTop, padLeft, multiplier);
    }

    /// <summary>
    /// A MobileNet-style geometry: fixed kernel and stride, TensorFlow SAME padding,
    /// <paramref name="inC"/> input channels (0 = a random odd count).
    /// </summary>
    public ConvGeometry Same(int kernel, int stride, int inC, bool depthwise)
    {
        int inH = _random.Next(1, 14), inW = _random.Next(1, 14);
        if (inC == 0) inC = Channels();
        var (padTop, _) = ConvGeometry.SamePadding(inH, kernel, stride);
        var (padLeft, _) = ConvGeometry.SamePadding(inW, kernel, stride);
        int outH = (inH + stride - 1) / stride, outW = (inW + stride - 1) / stride;
        int outC = depthwise ? inC : Channels();
        return new ConvGeometry(_random.Next(1, 3), inH, inW, inC, outH, outW, outC, kernel, kernel, stride, stride,
            1, 1, padTop, padLeft, 1);
    }

    /// <summary>A global mean's input: 1-2 images of 1..9 x 1..9, odd channel counts or 1-600 (several pooling blocks).</summary>
    public (int Batch, int Height, int Width, int Channels) GlobalPoolShape() =>
        (_random.Next(1, 3), _random.Next(1, 10), _random.Next(1, 10), _random.Next(2) == 0 ? Channels() : _random.Next(1, 600));

    /// <summary>
    /// <see cref="Same"/> with rows of 15 to 40 output pixels and 1 to 4 rows: wide enough for the fp32 depthwise
    /// kernels' row sweep, which rows of at most 14 pixels do not take.
    /// </summary>
    public ConvGeometry SameWideRows(int kernel, int stride, bool depthwise)
    {
        int outW = _random.Next(15, 41), outH = _random.Next(1, 5);
        int inW = outW * stride - _random.Next(stride), inH = outH * stride - _random.Next(stride);
        int inC = Channels();
        var (padTop, _) = ConvGeometry.SamePadding(inH, kernel, stride);
        var (padLeft, _) = ConvGeometry.SamePadding(inW, kernel, stride);
        int outC = depthwise ? inC : Channels();
        return new ConvGeometry(_random.Next(1, 3), inH, inW, inC, (inH + stride - 1) / stride, (inW + stride - 1) / stride,
            outC, kernel, kernel, stride, stride, 1, 1, padTop, padLeft, 1);
    }

    /// <summary>
    /// A pointwise layer as after a ReLU: shallow and deep (around 32 and 128, and 999 over 242 pixels: staged in two
    /// chunks), with fewer or at least as many outputs as inputs (the avx2 set's GEMM choice depends on all three).
    /// </summary>
    public ConvGeometry PointwiseReluDepth()
    {
        int[] depths = [1, 16, 31, 32, 33, 64, 127, 128, 129, 131, 256, 300, 999];
        int inC = depths[_random.Next(depths.Length)];
        int outC = _random.Next(2) == 0 ? Channels() : inC + Channels() - 1;
        int batch = _random.Next(1, 3), inH = _random.Next(1, 12), inW = _random.Next(1, 12);
        if (inC == 999) (batch, inH, inW) = (2, 11, 11);
        return new ConvGeometry(batch, inH, inW, inC, inH, inW, outC, 1, 1, 1, 1, 1, 1, 0, 0, 1);
    }

    /// <summary>
    /// A pointwise geometry (1x1, stride 1, no padding: the GEMM-shaped layers), with input depths below, at and
    /// above 16-value groups and not multiples of any vector width.
    /// </summary>
    public ConvGeometry Pointwise()
    {
        // The deep ones make GEMMs that stage input rows in chunks (by bytes) run several chunks and a remainder.
        int[] depths = [1, 3, 8, 15, 16, 17, 24, 31, 33, 47, 64, 65, 100, 129, 999, 1024];
        int inC = depths[_random.Next(depths.Length)];
        int inH = _random.Next(1, 10), inW = _random.Next(1, 10);
        return new ConvGeometry(_random.Next(1, 3), inH, inW, inC, inH, inW, Channels(), 1, 1, 1, 1, 1, 1, 0, 0, 1);
    }

    public float[] Floats(int count, float scale = 1f)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(_random.NextDouble() * 2 - 1) * scale;
        return values;
    }

    public sbyte[] Int8(int count, int min = -128, int max = 127)
    {
        var values = new sbyte[count];
        for (int i = 0; i < count; i++) values[i] = (sbyte)_random.Next(min, max + 1);
        return values;
    }

    public int[] Int32(int count, int range)
    {
        var values = new int[count];
        for (int i = 0; i < count; i++) values[i] = _random.Next(-range, range + 1);
        return values;
    }

    /// <summary>
    /// int8 biases: mostly within 2^16, sometimes anywhere in int32, so accumulators exceed the bound under which
    /// kernels may pick a shorter rounding sequence (Qs8RequantizeRight8) and must fall back to the general one.
    /// </summary>
    public int[] Bias(int count) => _random.Next(8) == 0 ? Int32(count, int.MaxValue - 1) : Int32(count, 1 << 16);

    /// <summary>Biases beyond +-2^30, for accumulators near the int32 limits.</summary>
    public int[] LimitBias(int count)
    {
        var values = new int[count];
        for (int i = 0; i < count; i++)
        {
            int magnitude = (1 << 30) + _random.Next(1 << 30);
            values[i] = _random.Next(2) == 0 ? magnitude : -magnitude;
        }
        return values;
    }

    /// <summary>Per-channel multipliers near 2^31 and right shifts of 1 to 31, no activation clamp.</summary>
    public Qs8OutputParams LimitRequantization(int channels)
    {
        var multipliers = new int[channels];
        var shifts = new int[channels];
        for (int c = 0; c < channels; c++)
        {
            multipliers[c] = int.MaxValue - _random.Next(1 << 20);
            shifts[c] = -_random.Next(1, 32);
        }
        return new Qs8OutputParams(multipliers, shifts, ZeroPoint(), sbyte.MinValue, sbyte.MaxValue);
    }

    /// <summary>A zero point, often at an extreme of the int8 range.</summary>
    public int ZeroPoint() => _random.Next(4) switch
    {
        0 => -128,
        1 => 127,
        2 => 0,
        _ => _random.Next(-128, 128),
    };

    /// <summary>
    /// Requantization for <paramref name="channels"/> outputs of an accumulation over <paramref name="depth"/>
    /// products: effective scales around 1/depth (typical), sometimes tiny or above 1 (saturating), per channel or
    /// per tensor, with a random fused-activation clamp.
    /// </summary>
    public Qs8OutputParams Requantization(int channels, int depth)
    {
        bool perChannel = _random.Next(2) == 0;
        int n = perChannel ? channels : 1;
        var scales = new float[n];
        for (int c = 0; c < n; c++)
        {
            double typical = 1.0 / (Math.Max(depth, 1) * 64.0);
            scales[c] = _random.Next(8) switch
            {
                0 => (float)(typical * 1e-3),
                1 => (float)(1.5 + _random.NextDouble()),
                _ => (float)(typical * (0.25 + 4 * _random.NextDouble())),
            };
        }
        int zeroPoint = ZeroPoint();
        var activation = (ActivationKind)_random.Next(3);
        var (min, max) = FixedPoint.ActivationRange(activation, 0.05f, zeroPoint);
        return Qs8OutputParams.FromScales(1.0, scales, 1.0, zeroPoint, min, max);
    }
}
