using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Import;
using EdgeMobileNet.Import.Tflite;
using EdgeMobileNet.Kernels;
using EdgeMobileNet.Kernels.Quantization;
using EdgeMobileNet.Kernels.Reference;
using Xunit;

namespace EdgeMobileNet.Tests.Import;

public sealed class TfliteImporterTests
{
    internal static ModelDefinition Import(byte[] bytes) => new TfliteImporter().Import(bytes, "test.tflite").Model;

    internal static sbyte[] Run(ModelDefinition model, sbyte[] input)
    {
        using var session = InferenceSession.Create(model);
        input.CopyTo(session.Input<sbyte>(0));
        session.Run();
        return session.Output<sbyte>(0).ToArray();
    }

    internal static sbyte[] RandomInt8(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (sbyte)rng.Next(-128, 128)).ToArray();
    }

    [Fact]
    public void SmallModelMapsEveryOperator()
    {
        var result = new TfliteImporter().Import(TfliteTestBuilder.SmallInt8Model().Build(), "small.tflite");
        var model = result.Model;
        Assert.Equal(
            [OperatorType.Transpose, OperatorType.Conv2D, OperatorType.DepthwiseConv2D, OperatorType.Conv2D, OperatorType.Add,
             OperatorType.Mean, OperatorType.Reshape, OperatorType.FullyConnected, OperatorType.Softmax],
            model.Operators.Select(o => o.Type));
        // The graph input is the source's own NCHW tensor.
        Assert.Equal([1, 2, 5, 5], model.Tensors[model.Inputs[0]].Shape);
        // PAD [1,1] on H and W folded into the VALID convolution.
        var conv = model.Operators[1].Attributes;
        Assert.Equal((1, 1, 1, 1), (conv.PadTop, conv.PadLeft, conv.PadBottom, conv.PadRight));
        Assert.Equal(FusedActivation.Relu6, conv.Activation);
        // SAME, stride 2, 3x3 on 5x5: total padding 2 -> 1 before, 1 after; depth multiplier 2.
        var dw = model.Operators[2].Attributes;
        Assert.Equal((1, 1, 1, 1, 2), (dw.PadTop, dw.PadLeft, dw.PadBottom, dw.PadRight, dw.DepthMultiplier));
        Assert.Equal(2, model.Operators[3].Inputs.Length); // the bias-less 1x1 convolution
        Assert.Equal(9, result.Summary.SourceOperatorCount);
        Assert.Equal(1, result.Summary.SourceOperators["PAD"]);
        Assert.Contains("per-channel", result.Summary.Quantization);
        var output = Run(model, RandomInt8(50, 1));
        Assert.Equal(3, output.Length);
        Assert.InRange(output.Sum(v => v + 128), 250, 262); // softmax probabilities (q + 128) / 256 sum to ~1
    }

    [Fact]
    public void FoldedPadEqualsSamePadding()
    {
        // PAD filling with the zero point followed by a VALID convolution is by definition a SAME convolution.
        var withPad = Import(TfliteTestBuilder.SmallInt8Model(seed: 11, usePad: true).Build());
        var same = Import(TfliteTestBuilder.SmallInt8Model(seed: 11, usePad: false).Build());
        for (int i = 0; i < 20; i++)
        {
            var input = RandomInt8(50, 100 + i);
            Assert.Equal(Run(same, input), Run(withPad, input));
        }
    }

    [Fact]
    public void TransposePadConvolutionMatchesTheReferencePipeline()
    {
        var rng = new Random(3);
        var weights = Enumerable.Range(0, 3 * 3 * 3 * 2).Select(_ => (sbyte)rng.Next(-127, 128)).ToArray();
        var bias = new[] { 100, -250, 37 };
        float[] filterScales = [0.011f, 0.007f, 0.013f];
        var m = new TfliteTestBuilder();
        int input = m.Int8("in", [1, 2, 4, 5], 0.03f, 6);
        int perm = m.Int32Const("perm", [0, 2, 3, 1]);
        int nhwc = m.Int8("nhwc", [1, 4, 5, 2], 0.03f, 6);
        int pads = m.Int32Const("pads", [0, 0, 2, 0, 1, 1, 0, 0]);
        int padded = m.Int8("padded", [1, 6, 7, 2], 0.03f, 6);
        int w = m.Tensor("w", TfliteTestBuilder.TInt8, [3, 3, 3, 2], (byte[])(Array)weights, filterScales, new long[3]);
        int b = m.Int32Const("b", bias);
        int output = m.Int8("out", [1, 2, 3, 3], 0.09f, -10); // VALID stride 2 on 6x7
        m.Op(39, [input, perm], [nhwc]);
        m.Op(34, [nhwc, pads], [padded]);
        m.Op(3, [padded, w, b], [output], 1, TfliteTestBuilder.Conv(1, 2, 0));
        m.Inputs.Add(input);
        m.Outputs.Add(output);
        var model = Import(m.Build());

        var x = RandomInt8(40, 5);
        // Expected: transpose by index arithmetic, physical padding with the zero point, reference convolution.
        var physical = new sbyte[6 * 7 * 2];
        Array.Fill(physical, (sbyte)6);
        for (int c = 0; c < 2; c++)
        for (int y = 0; y < 4; y++)
        for (int xx = 0; xx < 5; xx++)
            physical[((y + 2) * 7 + (xx + 1)) * 2 + c] = x[(c * 4 + y) * 5 + xx];
        var g = new ConvGeometry(1, 6, 7, 2, 2, 3, 3, 3, 3, 2, 2, 1, 1, 0, 0, 1);
        var p = Qs8OutputParams.FromScales(0.03f, filterScales, 0.09f, -10, -128, 127);
        var expected = new sbyte[18];
        Qs8Reference.Conv2D(g, 6, p, physical, weights, bias, expected);
        Assert.Equal(expected, Run(model, x));
    }

    [Fact]
    public void MeanWithKeepDimsNeedsNoReshape()
    {
        var m = new TfliteTestBuilder();
        int input = m.Int8("in", [1, 3, 3, 4], 0.05f, 3);
        int axes = m.Int32Const("axes", [2, 1]);
        int output = m.Int8("out", [1, 1, 1, 4], 0.05f, 3);
        m.Op(40, [input, axes], [output], 27, TfliteTestBuilder.Reducer(true));
        m.Inputs.Add(input);
        m.Outputs.Add(output);
        var model = Import(m.Build());
        Assert.Equal([OperatorType.Mean], model.Operators.Select(o => o.Type));
        // Same quantization: TFLite truncates the integer mean toward zero.
        var x = new sbyte[36];
        for (int i = 0; i < 9; i++) { x[i * 4] = -1; x[i * 4 + 1] = (sbyte)(i < 5 ? -1 : 0); x[i * 4 + 2] = 100; x[i * 4 + 3] = (sbyte)(i == 0 ? 8 : 0); }
        Assert.Equal(new sbyte[] { -1, 0, 100, 0 }, Run(model, x));
    }

    [Fact]
    public void EveryUnsupportedOperatorIsListed()
    {
        var m = new TfliteTestBuilder();
        int a = m.Int8("a", [1, 4, 4, 2], 0.1f, 0);
        int b = m.Int8("b", [1, 2, 2, 2], 0.1f, 0);
        int c = m.Int8("c", [1, 2, 2, 2], 0.1f, 0);
        int d = m.Int8("d", [1, 2, 2, 2], 1f / 256, -128);
        m.Op(17, [a], [b]);          // MAX_POOL_2D
        m.Op(0, [b, b], [c], 11, TfliteTestBuilder.ActivationOnly(0));
        m.Op(14, [c], [d]);          // LOGISTIC
        m.Inputs.Add(a);
        m.Outputs.Add(d);
        var e = Assert.Throws<ImportException>(() => Import(m.Build()));
        Assert.Contains("operator 0 MAX_POOL_2D", e.Message);
        Assert.Contains("operator 2 LOGISTIC", e.Message);
        Assert.DoesNotContain("operator 1", e.Message);
    }

    [Fact]
    public void UnsupportedActivationAndTypeAreReported()
    {
        var m = new TfliteTestBuilder();
        int a = m.Tensor("a", 3 /* UINT8 */, [1, 2], scales: [0.1f], zeroPoints: [128]);
        int b = m.Int8("b", [1, 2], 1f / 256, -128);
        m.Op(25, [a], [b], 9, TfliteTestBuilder.Softmax(1f));
        m.Inputs.Add(a);
        m.Outputs.Add(b);
        var e = Assert.Throws<ImportException>(() => Import(m.Build()));
        Assert.Contains("UINT8", e.Message);
    }

    [Fact]
    public void BuiltinCodeIsTheMaximumOfBothFields()
    {
        var builder = TfliteTestBuilder.SmallInt8Model();
        builder.UseNewBuiltinCode = true; // max(deprecated_builtin_code = 0, builtin_code) is the real code
        var model = Import(builder.Build());
        Assert.Equal(9, model.Operators.Count);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 })]
    [InlineData(new byte[] { 8, 0, 0, 0, (byte)'T', (byte)'F', (byte)'L', (byte)'3' })]
    public void GarbageIsAnImportException(byte[] bytes)
    {
        Assert.Throws<ImportException>(() => Import(bytes));
    }

    [Fact]
    public void TransposeReferenceMovesNchwToNhwc()
    {
        var input = Enumerable.Range(0, 24).Select(i => (float)i).ToArray(); // [1,2,3,4] NCHW
        var output = new float[24];
        TransposeReference.Transpose<float>([1, 2, 3, 4], [0, 2, 3, 1], input, output);
        for (int c = 0; c < 2; c++)
        for (int y = 0; y < 3; y++)
        for (int x = 0; x < 4; x++)
            Assert.Equal(input[(c * 3 + y) * 4 + x], output[(y * 4 + x) * 2 + c]);
        Assert.Equal([3, 4, 2], TransposeReference.OutputShape([2, 3, 4], [1, 2, 0]));
        Assert.Throws<ArgumentException>(() => TransposeReference.OutputShape([2, 3], [0, 0]));
    }
}

public sealed class TflitePadTests
{
    [Fact]
    public void PadThatIsNotFoldableBecomesAPadOperator()
    {
        // PAD read by an ADD (not a convolution) stays a Pad operator that fills with the zero point.
        var m = new TfliteTestBuilder();
        int a = m.Int8("a", [1, 2, 2, 1], 0.1f, 5);
        int pads = m.Int32Const("pads", [0, 0, 1, 0, 0, 2, 0, 0]);
        int padded = m.Int8("padded", [1, 3, 4, 1], 0.1f, 5);
        int sum = m.Int8("sum", [1, 3, 4, 1], 0.1f, 5);
        m.Op(34, [a, pads], [padded]);
        m.Op(0, [padded, padded], [sum], 11, TfliteTestBuilder.ActivationOnly(0));
        m.Inputs.Add(a);
        m.Outputs.Add(sum);
        var model = TfliteImporterTests.Import(m.Build());
        Assert.Equal([OperatorType.Pad, OperatorType.Add], model.Operators.Select(o => o.Type));

        // A graph output made by PAD is not folded either.
        var n = new TfliteTestBuilder();
        int x = n.Int8("x", [1, 2, 2, 1], 0.1f, 5);
        int p = n.Int32Const("pads", [0, 0, 1, 0, 0, 2, 0, 0]);
        int y = n.Int8("y", [1, 3, 4, 1], 0.1f, 5);
        n.Op(34, [x, p], [y]);
        n.Inputs.Add(x);
        n.Outputs.Add(y);
        var padOnly = TfliteImporterTests.Import(n.Build());
        var output = TfliteImporterTests.Run(padOnly, [1, 2, 3, 4]);
        Assert.Equal(new sbyte[] { 5, 5, 5, 5, 1, 2, 5, 5, 3, 4, 5, 5 }, output);
    }
}
