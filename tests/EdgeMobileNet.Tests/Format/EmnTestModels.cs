using System.Runtime.InteropServices;
using EdgeMobileNet.Format.Model;
using Xunit;

namespace EdgeMobileNet.Tests.Format;

/// <summary>Small models for the .emn format tests, and a field-by-field model comparison.</summary>
internal static class EmnTestModels
{
    /// <summary>
    /// A tiny quantized classifier: f32 input, Quantize, Conv2D (per-channel i8 weights, i32 bias),
    /// DepthwiseConv2D, Dequantize, GlobalAveragePool, Reshape, FullyConnected (f32 constants), Softmax;
    /// RGB input contract; 1001-style labels (offset 1: class 0 is background).
    /// </summary>
    public static ModelDefinition Small()
    {
        var m = new ModelDefinition
        {
            Name = "tiny-mobilenet",
            Producer = "EdgeMobileNet tests 1.0",
            LabelOffset = 1,
            InputContract = new InputContract
            {
                Width = 8, Height = 8, Channels = 3, ColorOrder = ColorOrder.Rgb,
                Mean = [123.68f, 116.78f, 103.94f], Std = [58.4f, 57.12f, 57.38f],
            },
        };
        float[] convScales = [0.01f, 0.02f, 0.03f, 0.04f];
        int input = m.AddTensor(new("input", DataType.Float32, [1, 8, 8, 3]));
        int inputQ = m.AddTensor(new("input/quantized", DataType.Int8, [1, 8, 8, 3], QuantizationInfo.PerTensor(1 / 128f, 0)));
        int convW = m.AddTensor(new("conv1/weights", DataType.Int8, [4, 3, 3, 3],
            new QuantizationInfo(convScales, [0, 0, 0, 0], axis: 0), RandomBytes(4 * 3 * 3 * 3, seed: 1)));
        int convB = m.AddTensor(new("conv1/bias", DataType.Int32, [4],
            new QuantizationInfo([.. convScales.Select(s => s / 128f)], [0, 0, 0, 0], axis: 0), Int32Bytes(100, -200, 300, -400)));
        int conv = m.AddTensor(new("conv1/output", DataType.Int8, [1, 4, 4, 4], QuantizationInfo.PerTensor(0.05f, -128)));
        int dwW = m.AddTensor(new("dw1/weights", DataType.Int8, [1, 3, 3, 4],
            new QuantizationInfo([0.5f, 0.25f, 0.125f, 0.0625f], [1, -1, 2, -2], axis: 3), RandomBytes(36, seed: 2)));
        int dwB = m.AddTensor(new("dw1/bias", DataType.Int32, [4], QuantizationInfo.PerTensor(0.001f, 0), Int32Bytes(1, 2, 3, 4)));
        int dw = m.AddTensor(new("dw1/output", DataType.Int8, [1, 4, 4, 4], QuantizationInfo.PerTensor(0.1f, 5)));
        int deq = m.AddTensor(new("dw1/dequantized", DataType.Float32, [1, 4, 4, 4]));
        int pool = m.AddTensor(new("pool", DataType.Float32, [1, 1, 1, 4]));
        int flat = m.AddTensor(new("flatten", DataType.Float32, [1, 4]));
        int fcW = m.AddTensor(new("fc/weights", DataType.Float32, [3, 4], data: FloatBytes(12, seed: 3)));
        int fcB = m.AddTensor(new("fc/bias", DataType.Float32, [3], data: FloatBytes(3, seed: 4)));
        int logits = m.AddTensor(new("logits", DataType.Float32, [1, 3]));
        int probs = m.AddTensor(new("probabilities", DataType.Float32, [1, 3]));

        m.Operators.Add(new(OperatorType.Quantize, [input], [inputQ], name: "quantize"));
        m.Operators.Add(new(OperatorType.Conv2D, [inputQ, convW, convB], [conv],
            OperatorAttributes.Convolution(2, 0, 0, 1, 1, FusedActivation.Relu6), "conv1"));
        m.Operators.Add(new(OperatorType.DepthwiseConv2D, [conv, dwW, dwB], [dw],
            OperatorAttributes.Convolution(1, 1, 1, 1, 1, FusedActivation.Relu, depthMultiplier: 1), "dw1"));
        m.Operators.Add(new(OperatorType.Dequantize, [dw], [deq], name: "dequantize"));
        m.Operators.Add(new(OperatorType.GlobalAveragePool, [deq], [pool], name: "pool"));
        m.Operators.Add(new(OperatorType.Reshape, [pool], [flat], name: "flatten"));
        m.Operators.Add(new(OperatorType.FullyConnected, [flat, fcW, fcB], [logits],
            new OperatorAttributes { Activation = FusedActivation.None }, "fc"));
        m.Operators.Add(new(OperatorType.Softmax, [logits], [probs], new OperatorAttributes { Beta = 1f }, "softmax"));
        m.Inputs.Add(input);
        m.Outputs.Add(probs);
        m.Labels.AddRange(["cat", "dög 🐕", ""]);
        return m;
    }

    /// <summary>A model whose last tensor is a constant, so the tensors section ends with its data offset and length.</summary>
    public static ModelDefinition WithTrailingConstant()
    {
        ModelDefinition m = Small();
        m.AddTensor(new("extra/constant", DataType.Float32, [2, 2], data: FloatBytes(4, seed: 5)));
        return m;
    }

    /// <summary>The smallest valid model: one f32 Reshape, no constants, no contract, no labels.</summary>
    public static ModelDefinition Minimal()
    {
        var m = new ModelDefinition();
        m.AddTensor(new("x", DataType.Float32, [1, 4]));
        m.AddTensor(new("y", DataType.Float32, [4]));
        m.Operators.Add(new(OperatorType.Reshape, [0], [1]));
        m.Inputs.Add(0);
        m.Outputs.Add(1);
        return m;
    }

    public static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static byte[] FloatBytes(int count, int seed)
    {
        var random = new Random(seed);
        float[] values = [.. Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    }

    public static byte[] Int32Bytes(params int[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    public static void AssertEquivalent(ModelDefinition expected, ModelDefinition actual)
    {
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Producer, actual.Producer);
        Assert.Equal(expected.Tensors.Count, actual.Tensors.Count);
        for (int i = 0; i < expected.Tensors.Count; i++)
            AssertEquivalent(expected.Tensors[i], actual.Tensors[i]);
        Assert.Equal(expected.Operators.Count, actual.Operators.Count);
        for (int i = 0; i < expected.Operators.Count; i++)
            AssertEquivalent(expected.Operators[i], actual.Operators[i]);
        Assert.Equal(expected.Inputs, actual.Inputs);
        Assert.Equal(expected.Outputs, actual.Outputs);
        AssertEquivalent(expected.InputContract, actual.InputContract);
        Assert.Equal(expected.LabelOffset, actual.LabelOffset);
        Assert.Equal(expected.Labels, actual.Labels);
    }

    private static void AssertEquivalent(TensorDefinition expected, TensorDefinition actual)
    {
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.DataType, actual.DataType);
        Assert.Equal(expected.Shape, actual.Shape);
        Assert.Equal(expected.Quantization is null, actual.Quantization is null);
        if (expected.Quantization is { } q)
        {
            Assert.Equal(q.Axis, actual.Quantization!.Axis);
            Assert.Equal(q.Scales, actual.Quantization.Scales);
            Assert.Equal(q.ZeroPoints, actual.Quantization.ZeroPoints);
        }
        Assert.Equal(expected.IsConstant, actual.IsConstant);
        if (expected.Data is { } data)
            Assert.True(data.Span.SequenceEqual(actual.Data!.Value.Span), $"data of tensor {expected.Name}");
    }

    private static void AssertEquivalent(OperatorDefinition expected, OperatorDefinition actual)
    {
        Assert.Equal(expected.Type, actual.Type);
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Inputs, actual.Inputs);
        Assert.Equal(expected.Outputs, actual.Outputs);
        Assert.Equal(expected.Attributes, actual.Attributes);
    }

    private static void AssertEquivalent(InputContract? expected, InputContract? actual)
    {
        Assert.Equal(expected is null, actual is null);
        if (expected is null) return;
        Assert.Equal(expected.Width, actual!.Width);
        Assert.Equal(expected.Height, actual.Height);
        Assert.Equal(expected.Channels, actual.Channels);
        Assert.Equal(expected.ColorOrder, actual.ColorOrder);
        Assert.Equal(expected.Mean, actual.Mean);
        Assert.Equal(expected.Std, actual.Std);
    }
}
