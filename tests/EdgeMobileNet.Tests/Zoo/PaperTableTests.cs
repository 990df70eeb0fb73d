using EdgeMobileNet.Graph.Analysis;
using EdgeMobileNet.Zoo;
using Xunit;

namespace EdgeMobileNet.Tests.Zoo;

/// <summary>The MobileNet papers' published costs, reproduced by the generated architectures.</summary>
public class PaperTableTests
{
    // MobileNet V1 paper, Tables 6 and 7: Mult-Adds and parameters in millions.
    [Theory]
    [InlineData(1.00f, 224, 569, 4.2)]
    [InlineData(0.75f, 224, 325, 2.6)]
    [InlineData(0.50f, 224, 149, 1.3)]
    [InlineData(0.25f, 224, 41, 0.5)]
    [InlineData(1.00f, 192, 418, 4.2)]
    [InlineData(1.00f, 160, 290, 4.2)]
    [InlineData(1.00f, 128, 186, 4.2)]
    public void MobileNetV1MatchesPaperWithinTwoPercent(float alpha, int resolution, double paperMacsM, double paperParamsM)
    {
        var stats = ModelStatistics.Compute(MobileNetV1.Build(alpha, resolution));
        AssertWithin(stats.MultAdds / 1e6, paperMacsM, 0.02, $"Mult-Adds of V1 {alpha}-{resolution}");
        // The paper rounds parameters to 0.1M; 0.5M (alpha 0.25) is stated to one digit, so allow that rounding too.
        double tolerance = Math.Max(0.02, 0.05 / paperParamsM);
        AssertWithin(stats.Parameters / 1e6, paperParamsM, tolerance, $"parameters of V1 {alpha}-{resolution}");
    }

    [Fact]
    public void MobileNetV1SplitMatchesPaperTable2()
    {
        var stats = ModelStatistics.Compute(MobileNetV1.Build(1.0f, 224));
        // Table 2: Conv 1x1 94.86% / 74.59%, Conv DW 3x3 3.06% / 1.06%, Conv 3x3 1.19% / 0.02%, FC 0.18% / 24.33%.
        AssertPercent(stats.MultAddsOf(LayerCategory.Conv1x1), stats.MultAdds, 94.86, "1x1 Mult-Adds");
        AssertPercent(stats.ParametersOf(LayerCategory.Conv1x1), stats.Parameters, 74.59, "1x1 parameters");
        AssertPercent(stats.MultAddsOf(LayerCategory.DepthwiseConv), stats.MultAdds, 3.06, "depthwise Mult-Adds");
        AssertPercent(stats.MultAddsOf(LayerCategory.Conv), stats.MultAdds, 1.19, "first conv Mult-Adds");
        AssertPercent(stats.MultAddsOf(LayerCategory.FullyConnected), stats.MultAdds, 0.18, "FC Mult-Adds");
        AssertPercent(stats.ParametersOf(LayerCategory.FullyConnected), stats.Parameters, 24.33, "FC parameters");
    }

    // MobileNet V2 paper, Table 4: 1.0-224 300M Mult-Adds, 3.4M parameters; 1.4-224 585M Mult-Adds. The paper's
    // 6.9M parameters for 1.4 does not hold for its own architecture; the released 1.4-224 checkpoint has 6.06M.
    [Theory]
    [InlineData(1.0f, 224, 300, 3.4)]
    [InlineData(1.4f, 224, 585, 6.06)]
    public void MobileNetV2MatchesPaper(float alpha, int resolution, double paperMacsM, double paperParamsM)
    {
        var stats = ModelStatistics.Compute(MobileNetV2.Build(alpha, resolution));
        AssertWithin(stats.MultAdds / 1e6, paperMacsM, 0.02, $"Mult-Adds of V2 {alpha}-{resolution}");
        AssertWithin(stats.Parameters / 1e6, paperParamsM, 0.03, $"parameters of V2 {alpha}-{resolution}");
    }

    [Fact]
    public void MobileNetV1FollowsTable1Shapes()
    {
        var model = MobileNetV1.Build(1.0f, 224);
        var stats = ModelStatistics.Compute(model);
        Assert.Equal("[1x224x224x3]", stats.Layers[0].InputShape);
        Assert.Equal("[1x112x112x32]", stats.Layers[0].OutputShape);
        // 13 depthwise + 13 pointwise, the last depthwise keeps 7x7 (stride 1), then pool, reshape, FC, softmax.
        Assert.Equal(13, stats.Layers.Count(l => l.Category == LayerCategory.DepthwiseConv));
        Assert.Equal(13, stats.Layers.Count(l => l.Category == LayerCategory.Conv1x1));
        var lastDepthwise = stats.Layers.Last(l => l.Category == LayerCategory.DepthwiseConv);
        Assert.Equal("[1x7x7x1024]", lastDepthwise.InputShape);
        Assert.Equal("[1x7x7x1024]", lastDepthwise.OutputShape);
        Assert.Equal("[1x1000]", stats.Layers[^1].OutputShape);
    }

    [Fact]
    public void MobileNetV2HasSeventeenBottlenecksAndTenResiduals()
    {
        var model = MobileNetV2.Build(1.0f, 224);
        Assert.Equal(17, model.Operators.Count(o => o.Type == EdgeMobileNet.Format.Model.OperatorType.DepthwiseConv2D));
        Assert.Equal(10, model.Operators.Count(o => o.Type == EdgeMobileNet.Format.Model.OperatorType.Add));
        // Linear bottlenecks: every projection has no activation.
        Assert.All(model.Operators.Where(o => o.Name.EndsWith("/project")),
            o => Assert.Equal(EdgeMobileNet.Format.Model.FusedActivation.None, o.Attributes.Activation));
    }

    [Fact]
    public void SameSeedGivesSameWeightsAndOtherSeedDiffers()
    {
        var a = EdgeMobileNet.Format.Io.EmnWriter.Write(MobileNetV1.Build(0.25f, 128, seed: 7));
        var b = EdgeMobileNet.Format.Io.EmnWriter.Write(MobileNetV1.Build(0.25f, 128, seed: 7));
        var c = EdgeMobileNet.Format.Io.EmnWriter.Write(MobileNetV1.Build(0.25f, 128, seed: 8));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    private static void AssertWithin(double actual, double expected, double relative, string what) =>
        Assert.True(Math.Abs(actual - expected) <= relative * expected,
            $"{what}: {actual:F3} differs from the paper's {expected} by more than {relative:P0}");

    private static void AssertPercent(long part, long total, double paperPercent, string what)
    {
        double percent = 100.0 * part / total;
        Assert.True(Math.Abs(percent - paperPercent) <= 1.0, $"{what}: {percent:F2}% vs the paper's {paperPercent}%");
    }
}
