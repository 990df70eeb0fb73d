using System.Runtime.InteropServices;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Import.Onnx;
using EdgeMobileNet.Zoo;

namespace EdgeMobileNet.Tests.Import;

internal static class OnnxTestSupport
{
    /// <summary>A small MobileNet-like fp32 model: conv, depthwise, pointwise, residual add, pools, FC, softmax.</summary>
    public static ModelDefinition SmallModel(int seed = 3)
    {
        var model = new ModelDefinition { Name = "small" };
        var b = new F32GraphBuilder(model, new SeededWeights(seed));
        int x = b.Input("input", 16, 16, 3);
        x = b.Conv(x, 8, 3, 2, FusedActivation.Relu6, "conv_0");
        int h = b.Depthwise(x, 3, 1, FusedActivation.Relu6, "dw");
        h = b.Pointwise(h, 8, FusedActivation.None, "pw");
        x = b.Add(x, h, "add");
        x = b.Depthwise(x, 3, 2, FusedActivation.Relu, "dw2");
        x = b.Pointwise(x, 16, FusedActivation.Relu6, "pw2");
        x = b.GlobalAveragePool(x, "gap");
        x = b.Reshape(x, [1, 16], "flatten");
        x = b.FullyConnected(x, 10, "logits");
        x = b.Softmax(x, "predictions");
        b.Output(x);
        return model;
    }

    public static ModelDefinition Quantized(ModelDefinition f32, int calibration = 4) =>
        PostTrainingQuantizer.Quantize(f32, PostTrainingQuantizer.SyntheticCalibration(f32, calibration, 11));

    /// <summary>The same model with its final softmax removed: the logits become the output.</summary>
    public static ModelDefinition WithoutSoftmax(ModelDefinition model)
    {
        var last = model.Operators[^1];
        if (last.Type != OperatorType.Softmax) return model;
        model.Operators.RemoveAt(model.Operators.Count - 1);
        model.Outputs[0] = last.Inputs[0];
        if (last.Outputs[0] == model.Tensors.Count - 1) model.Tensors.RemoveAt(model.Tensors.Count - 1);
        return model;
    }

    /// <summary>Deterministic inputs in [-1, 1].</summary>
    public static float[] RandomInput(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    public static float[] NhwcToNchw(float[] nhwc, int h, int w, int c)
    {
        var result = new float[nhwc.Length];
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
        for (int ch = 0; ch < c; ch++)
            result[(ch * h + y) * w + x] = nhwc[(y * w + x) * c + ch];
        return result;
    }

    /// <summary>Runs a model with one f32 input and returns its first output as floats (dequantized for int8).</summary>
    public static float[] RunEngine(ModelDefinition model, float[] input)
    {
        using var session = InferenceSession.Create(model);
        input.CopyTo(session.Input<float>(0));
        session.Run();
        var output = session.OutputTensor(0);
        if (output.DataType == DataType.Float32) return session.Output<float>(0).ToArray();
        var q = output.Quantization!;
        return MemoryMarshal.Cast<byte, sbyte>(session.OutputBytes(0)).ToArray().Select(v => (v - q.ZeroPoint) * q.Scale).ToArray();
    }

    public static ModelDefinition Import(byte[] onnx, string name = "model.onnx") => new OnnxImporter().Import(onnx, name).Model;
}
