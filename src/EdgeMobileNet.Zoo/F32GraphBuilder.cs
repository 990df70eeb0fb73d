using System.Runtime.InteropServices;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Kernels;

namespace EdgeMobileNet.Zoo;

/// <summary>
/// Appends fp32 NHWC layers with seeded, batchnorm-folded weights to a <see cref="ModelDefinition"/>.
/// Convolutions use TensorFlow SAME padding. Each method returns the index of the layer's output tensor.
/// </summary>
public sealed class F32GraphBuilder(ModelDefinition model, SeededWeights weights)
{
    public ModelDefinition Model => model;

    public int[] ShapeOf(int tensor) => model.Tensors[tensor].Shape;

    public int Input(string name, int height, int width, int channels)
    {
        int t = Activation(name, [1, height, width, channels]);
        model.Inputs.Add(t);
        return t;
    }

    public int Conv(int x, int outChannels, int kernel, int stride, FusedActivation activation, string name)
    {
        var s = ShapeOf(x);
        int inC = s[3];
        int count = outChannels * kernel * kernel * inC;
        int perChannel = kernel * kernel * inC;
        var (w, b) = weights.FoldedFilter(count, perChannel, outChannels, i => i / perChannel);
        int filter = Constant($"{name}/weights", [outChannels, kernel, kernel, inC], w);
        int bias = Constant($"{name}/bias", [outChannels], b);
        return Convolution(OperatorType.Conv2D, x, filter, bias, kernel, stride, 0, outChannels, activation, name);
    }

    public int Pointwise(int x, int outChannels, FusedActivation activation, string name) =>
        Conv(x, outChannels, 1, 1, activation, name);

    public int Depthwise(int x, int kernel, int stride, FusedActivation activation, string name)
    {
        int channels = ShapeOf(x)[3];
        var (w, b) = weights.FoldedFilter(kernel * kernel * channels, kernel * kernel, channels, i => i % channels);
        int filter = Constant($"{name}/depthwise_weights", [1, kernel, kernel, channels], w);
        int bias = Constant($"{name}/bias", [channels], b);
        return Convolution(OperatorType.DepthwiseConv2D, x, filter, bias, kernel, stride, 1, channels, activation, name);
    }

    public int Add(int a, int b, string name)
    {
        int output = Activation(name, ShapeOf(a));
        model.Operators.Add(new OperatorDefinition(OperatorType.Add, [a, b], [output], default, name));
        return output;
    }

    /// <summary>Average pool over the whole spatial extent with one window (the paper's "Avg Pool 7x7").</summary>
    public int AveragePoolAll(int x, string name)
    {
        var s = ShapeOf(x);
        int output = Activation(name, [s[0], 1, 1, s[3]]);
        var attributes = new OperatorAttributes { StrideH = 1, StrideW = 1, FilterH = s[1], FilterW = s[2] };
        model.Operators.Add(new OperatorDefinition(OperatorType.AveragePool2D, [x], [output], attributes, name));
        return output;
    }

    public int GlobalAveragePool(int x, string name)
    {
        var s = ShapeOf(x);
        int output = Activation(name, [s[0], 1, 1, s[3]]);
        model.Operators.Add(new OperatorDefinition(OperatorType.GlobalAveragePool, [x], [output], default, name));
        return output;
    }

    public int Reshape(int x, int[] shape, string name)
    {
        int output = Activation(name, shape);
        model.Operators.Add(new OperatorDefinition(OperatorType.Reshape, [x], [output], default, name));
        return output;
    }

    public int FullyConnected(int x, int outputs, string name)
    {
        var s = ShapeOf(x);
        int depth = s[^1];
        var (w, b) = weights.FoldedFilter(outputs * depth, depth, outputs, i => i / depth);
        // A classifier head has no batch normalization and starts near zero bias.
        Array.Clear(b);
        int filter = Constant($"{name}/weights", [outputs, depth], w);
        int bias = Constant($"{name}/bias", [outputs], b);
        int output = Activation(name, [s[0], outputs]);
        model.Operators.Add(new OperatorDefinition(OperatorType.FullyConnected, [x, filter, bias], [output], default, name));
        return output;
    }

    public int Softmax(int x, string name)
    {
        int output = Activation(name, ShapeOf(x));
        model.Operators.Add(new OperatorDefinition(OperatorType.Softmax, [x], [output],
            new OperatorAttributes { Beta = 1f }, name));
        return output;
    }

    public void Output(int tensor) => model.Outputs.Add(tensor);

    private int Convolution(OperatorType type, int x, int filter, int bias, int kernel, int stride, int depthMultiplier,
        int outChannels, FusedActivation activation, string name)
    {
        var s = ShapeOf(x);
        var (top, bottom) = ConvGeometry.SamePadding(s[1], kernel, stride);
        var (left, right) = ConvGeometry.SamePadding(s[2], kernel, stride);
        int oh = ConvGeometry.OutputSize(s[1], kernel, stride, 1, top, bottom);
        int ow = ConvGeometry.OutputSize(s[2], kernel, stride, 1, left, right);
        int output = Activation(name, [s[0], oh, ow, outChannels]);
        var attributes = OperatorAttributes.Convolution(stride, top, left, bottom, right, activation, depthMultiplier);
        model.Operators.Add(new OperatorDefinition(type, [x, filter, bias], [output], attributes, name));
        return output;
    }

    private int Activation(string name, int[] shape) =>
        model.AddTensor(new TensorDefinition(name, DataType.Float32, shape));

    private int Constant(string name, int[] shape, float[] values) =>
        model.AddTensor(new TensorDefinition(name, DataType.Float32, shape, null,
            MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));
}
