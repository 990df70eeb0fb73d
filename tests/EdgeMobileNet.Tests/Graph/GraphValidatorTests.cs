using EdgeMobileNet.Format;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Analysis;
using EdgeMobileNet.Zoo;
using Xunit;

namespace EdgeMobileNet.Tests.Graph;

public class GraphValidatorTests
{
    private static ModelFormatException Invalid(Action<ModelDefinition> breakIt, bool int8 = false)
    {
        var model = MobileNetV1.Build(0.25f, 64);
        if (int8) model = PostTrainingQuantizer.Quantize(model, PostTrainingQuantizer.SyntheticCalibration(model, 1, 1));
        breakIt(model);
        return Assert.Throws<ModelFormatException>(() => GraphValidator.Validate(model, "m.emn"));
    }

    [Fact]
    public void GeneratedModelsAreValid()
    {
        GraphValidator.Validate(MobileNetV1.Build(0.5f, 128), "v1");
        GraphValidator.Validate(MobileNetV2.Build(0.5f, 128), "v2");
    }

    [Fact]
    public void WrongOutputShapeNamesOperator()
    {
        var e = Invalid(m => m.Tensors[m.Operators[0].Outputs[0]].Shape = [1, 31, 32, 8]);
        Assert.Contains("operator 0 'conv_0' (Conv2D)", e.Message);
        Assert.Contains("[1x32x32x8]", e.Message);
    }

    [Fact]
    public void FilterChannelMismatchIsReported()
    {
        var e = Invalid(m =>
        {
            var op = m.Operators[2]; // block_1/pointwise
            m.Tensors[op.Inputs[1]].Shape = [16, 1, 1, 9];
        });
        Assert.Contains("input channels", e.Message);
    }

    [Fact]
    public void ReadBeforeWriteIsReported()
    {
        var e = Invalid(m => (m.Operators[0], m.Operators[1]) = (m.Operators[1], m.Operators[0]));
        Assert.Contains("before any operator writes it", e.Message);
    }

    [Fact]
    public void Int8WeightWithoutQuantizationIsReported()
    {
        var e = Invalid(m => m.Tensors[m.Operators[0].Inputs[1]].Quantization = null, int8: true);
        Assert.Contains("quantized int8 filter", e.Message);
    }

    [Fact]
    public void AsymmetricConvWeightsAreRejected()
    {
        var e = Invalid(m =>
        {
            var t = m.Tensors[m.Operators[0].Inputs[1]];
            var q = t.Quantization!;
            t.Quantization = new QuantizationInfo(q.Scales, q.ZeroPoints.Select(_ => 3).ToArray(), q.Axis);
        }, int8: true);
        Assert.Contains("symmetric", e.Message);
    }

    [Fact]
    public void Int8SoftmaxNeedsTfliteOutputQuantization()
    {
        var e = Invalid(m => m.Tensors[m.Outputs[0]].Quantization = QuantizationInfo.PerTensor(0.1f, 0), int8: true);
        Assert.Contains("1/256", e.Message);
    }

    [Fact]
    public void ReshapeElementCountMismatchIsReported()
    {
        var e = Invalid(m => m.Tensors[m.Operators.First(o => o.Type == OperatorType.Reshape).Outputs[0]].Shape = [1, 7]);
        Assert.Contains("reshapes", e.Message);
    }

    [Fact]
    public void OutOfRangeTensorIndexIsReported()
    {
        var e = Invalid(m => m.Operators[3].Inputs[0] = 100_000);
        Assert.Contains("out of range", e.Message);
    }
}
