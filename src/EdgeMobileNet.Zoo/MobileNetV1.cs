using EdgeMobileNet.Format.Model;

namespace EdgeMobileNet.Zoo;

/// <summary>
/// MobileNet V1 as the paper's Table 1 (Howard et al. 2017): a 3x3 stride-2 convolution, 13
/// depthwise-separable blocks (3x3 depthwise + 1x1 pointwise, batchnorm folded, ReLU6), average pool
/// over the final 7x7 (at 224), fully connected, softmax. Every channel count is scaled by the width
/// multiplier alpha (at least 8, as the reference implementation does).
/// The table's last depthwise row says s2, but its input and the pool after it are 7x7 and the
/// published Mult-Adds hold only with stride 1 there, so that block uses stride 1.
/// </summary>
public static class MobileNetV1
{
    public static readonly float[] PaperAlphas = [1.0f, 0.75f, 0.5f, 0.25f];
    public static readonly int[] PaperResolutions = [224, 192, 160, 128];

    /// <summary>(depthwise stride, pointwise output channels) of the 13 separable blocks at alpha 1.</summary>
    private static readonly (int Stride, int Channels)[] Blocks =
    [
        (1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512),
        (1, 512), (1, 512), (1, 512), (1, 512), (1, 512),
        (2, 1024), (1, 1024),
    ];

    public static ModelDefinition Build(float alpha = 1.0f, int resolution = 224, int classes = 1000, int seed = 1)
    {
        if (!(alpha > 0 && alpha <= 4)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be in (0, 4]");
        if (resolution < 32 || resolution > 1024) throw new ArgumentOutOfRangeException(nameof(resolution), resolution, "resolution must be 32..1024");
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes));

        var model = new ModelDefinition
        {
            Name = $"mobilenet_v1_{alpha:0.##}_{resolution}",
            Producer = "edgemobilenet generate (seeded random weights, architecture only)",
            InputContract = new InputContract { Width = resolution, Height = resolution, Channels = 3, ColorOrder = ColorOrder.Rgb },
        };
        var b = new F32GraphBuilder(model, new SeededWeights(seed));
        int x = b.Input("input", resolution, resolution, 3);
        x = b.Conv(x, Scale(32, alpha), 3, 2, FusedActivation.Relu6, "conv_0");
        for (int i = 0; i < Blocks.Length; i++)
        {
            x = b.Depthwise(x, 3, Blocks[i].Stride, FusedActivation.Relu6, $"block_{i + 1}/depthwise");
            x = b.Pointwise(x, Scale(Blocks[i].Channels, alpha), FusedActivation.Relu6, $"block_{i + 1}/pointwise");
        }
        x = b.AveragePoolAll(x, "avg_pool");
        x = b.Reshape(x, [1, b.ShapeOf(x)[3]], "flatten");
        x = b.FullyConnected(x, classes, "logits");
        x = b.Softmax(x, "predictions");
        b.Output(x);
        return model;
    }

    /// <summary>Channels at width multiplier alpha: floor(c * alpha), at least 8.</summary>
    public static int Scale(int channels, float alpha) => Math.Max(8, (int)(channels * alpha));
}
