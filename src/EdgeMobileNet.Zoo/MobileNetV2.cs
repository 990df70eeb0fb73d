using EdgeMobileNet.Format.Model;

namespace EdgeMobileNet.Zoo;

/// <summary>
/// MobileNet V2 as its paper's Table 2 (Sandler et al. 2018): a 3x3 stride-2 convolution, 17 inverted
/// residual bottlenecks (1x1 expansion by t with ReLU6, 3x3 depthwise with ReLU6, linear 1x1 projection,
/// a residual Add where stride is 1 and channels match), a 1x1 convolution to 1280, global average pool,
/// fully connected, softmax. Channels scale by alpha rounded to a multiple of 8; the last 1x1
/// convolution keeps 1280 for alpha below 1, as the paper's reference models do.
/// </summary>
public static class MobileNetV2
{
    /// <summary>(expansion t, output channels c, repeats n, first stride s) rows of the paper's Table 2.</summary>
    private static readonly (int T, int C, int N, int S)[] Bottlenecks =
    [
        (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
    ];

    public static ModelDefinition Build(float alpha = 1.0f, int resolution = 224, int classes = 1000, int seed = 1)
    {
        if (!(alpha > 0 && alpha <= 4)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be in (0, 4]");
        if (resolution < 32 || resolution > 1024) throw new ArgumentOutOfRangeException(nameof(resolution), resolution, "resolution must be 32..1024");

        var model = new ModelDefinition
        {
            Name = $"mobilenet_v2_{alpha:0.##}_{resolution}",
            Producer = "edgemobilenet generate (seeded random weights, architecture only)",
            InputContract = new InputContract { Width = resolution, Height = resolution, Channels = 3, ColorOrder = ColorOrder.Rgb },
        };
        var b = new F32GraphBuilder(model, new SeededWeights(seed));
        int x = b.Input("input", resolution, resolution, 3);
        x = b.Conv(x, MakeDivisible(32 * alpha), 3, 2, FusedActivation.Relu6, "conv_0");
        int block = 0;
        foreach (var (t, c, n, s) in Bottlenecks)
        {
            int outChannels = MakeDivisible(c * alpha);
            for (int i = 0; i < n; i++)
            {
                x = InvertedResidual(b, x, t, outChannels, i == 0 ? s : 1, $"block_{++block}");
            }
        }
        int lastChannels = alpha > 1.0f ? MakeDivisible(1280 * alpha) : 1280;
        x = b.Pointwise(x, lastChannels, FusedActivation.Relu6, "conv_last");
        x = b.GlobalAveragePool(x, "global_pool");
        x = b.Reshape(x, [1, lastChannels], "flatten");
        x = b.FullyConnected(x, classes, "logits");
        x = b.Softmax(x, "predictions");
        b.Output(x);
        return model;
    }

    private static int InvertedResidual(F32GraphBuilder b, int x, int expansion, int outChannels, int stride, string name)
    {
        int inChannels = b.ShapeOf(x)[3];
        int h = x;
        if (expansion != 1) h = b.Pointwise(h, inChannels * expansion, FusedActivation.Relu6, $"{name}/expand");
        h = b.Depthwise(h, 3, stride, FusedActivation.Relu6, $"{name}/depthwise");
        h = b.Pointwise(h, outChannels, FusedActivation.None, $"{name}/project");
        return stride == 1 && inChannels == outChannels ? b.Add(x, h, $"{name}/add") : h;
    }

    /// <summary>Rounds to the nearest multiple of 8, never below 8 or more than 10% under the value.</summary>
    public static int MakeDivisible(float value, int divisor = 8)
    {
        int rounded = Math.Max(divisor, (int)(value + divisor / 2f) / divisor * divisor);
        return rounded < 0.9f * value ? rounded + divisor : rounded;
    }
}
