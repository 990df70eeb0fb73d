using System.Runtime.InteropServices;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Import.Onnx;
using EdgeMobileNet.Zoo;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using Xunit.Abstractions;
using EngineSession = EdgeMobileNet.Graph.Runtime.InferenceSession;
using OrtSession = Microsoft.ML.OnnxRuntime.InferenceSession;

namespace EdgeMobileNet.Tests.Import;

/// <summary>
/// ONNX Runtime as the fp32 oracle: our MobileNets are exported with <see cref="OnnxExporter"/>, run by ORT, imported
/// back with <see cref="OnnxImporter"/> and run by our engine on the same NCHW input. The logits (the softmax removed,
/// so small differences are not squashed) must agree within 1e-4 relative to the largest logit magnitude.
/// </summary>
public sealed class OnnxRuntimeOracleTests(ITestOutputHelper output)
{
    public static TheoryData<string, float, int> Models => new()
    {
        { "v1", 1.0f, 128 }, { "v1", 0.75f, 128 }, { "v1", 0.5f, 128 }, { "v1", 0.25f, 128 },
        { "v1", 1.0f, 224 }, { "v1", 1.0f, 192 }, { "v1", 1.0f, 160 },
        { "v2", 1.0f, 224 }, { "v2", 0.35f, 96 },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Exported_model_agrees_with_onnx_runtime(string version, float alpha, int resolution)
    {
        var model = OnnxTestSupport.WithoutSoftmax(version == "v1"
            ? MobileNetV1.Build(alpha, resolution, 1000, seed: 5)
            : MobileNetV2.Build(alpha, resolution, 1000, seed: 5));
        byte[] onnx = OnnxExporter.Export(model);
        var imported = OnnxTestSupport.Import(onnx, $"{model.Name}.onnx");
        Assert.Equal([1, 3, resolution, resolution], imported.Tensors[imported.Inputs[0]].Shape);

        var input = OnnxTestSupport.RandomInput(3 * resolution * resolution, resolution + (int)(alpha * 100));
        float[] ours = OnnxTestSupport.RunEngine(imported, input);
        float[] reference = RunOrt(onnx, input, [1, 3, resolution, resolution]);

        Assert.Equal(reference.Length, ours.Length);
        double maxAbs = 0, maxRef = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            maxAbs = Math.Max(maxAbs, Math.Abs(ours[i] - reference[i]));
            maxRef = Math.Max(maxRef, Math.Abs(reference[i]));
        }
        output.WriteLine($"{model.Name}: logits max |ours - ORT| = {maxAbs:E3}, max |ORT| = {maxRef:G5}, relative {maxAbs / maxRef:E3}");
        Assert.True(maxRef > 0);
        Assert.True(maxAbs <= 1e-4 * maxRef, $"{model.Name}: max abs difference {maxAbs} exceeds 1e-4 x {maxRef}");

        // The engine's own NHWC model gives the same logits as its ONNX round trip.
        float[] nhwc = new float[input.Length];
        for (int c = 0; c < 3; c++)
        for (int p = 0; p < resolution * resolution; p++)
            nhwc[p * 3 + c] = input[c * resolution * resolution + p];
        float[] original = OnnxTestSupport.RunEngine(model, nhwc);
        for (int i = 0; i < ours.Length; i++) Assert.True(Math.Abs(original[i] - ours[i]) <= 1e-5 * maxRef, $"logit {i}: {original[i]} vs {ours[i]}");
    }

    [Fact]
    public void Int8_qdq_export_reimports_and_matches_the_int8_model_exactly()
    {
        // Logits as the int8 output, so the comparison is not flattened by a softmax of 1000 near-equal classes.
        var f32 = OnnxTestSupport.WithoutSoftmax(MobileNetV1.Build(0.25f, 128, 1000, seed: 7));
        var int8 = OnnxTestSupport.Quantized(f32, 2);
        byte[] onnx = OnnxExporter.Export(int8);
        var importer = new OnnxImporter();
        var result = importer.Import(onnx, "v1_int8.onnx");
        var imported = result.Model;
        Assert.Equal("int8 per-channel", result.Summary.Quantization);
        Assert.Contains(imported.Operators, o => o.Type == OperatorType.Conv2D && imported.Tensors[o.Inputs[1]].DataType == DataType.Int8);
        Assert.DoesNotContain(imported.Operators, o => o.Type is OperatorType.Conv2D or OperatorType.DepthwiseConv2D or OperatorType.FullyConnected
            && imported.Tensors[o.Inputs[1]].DataType == DataType.Float32);

        // Float input on the quantization grid, so both graphs see the same int8 input.
        var inputQuant = int8.Tensors[int8.Inputs[0]].Quantization!;
        var random = new Random(3);
        int hw = 128 * 128;
        var nhwcQ = new sbyte[3 * hw];
        var nchwFloat = new float[3 * hw];
        for (int p = 0; p < hw; p++)
        for (int c = 0; c < 3; c++)
        {
            sbyte q = (sbyte)random.Next(-128, 128);
            nhwcQ[p * 3 + c] = q;
            nchwFloat[c * hw + p] = (q - inputQuant.ZeroPoint) * inputQuant.Scale;
        }

        using var original = EngineSession.Create(int8);
        nhwcQ.CopyTo(original.Input<sbyte>(0));
        original.Run();
        var outQuant = int8.Tensors[int8.Outputs[0]].Quantization!;
        var expected = MemoryMarshal.Cast<byte, sbyte>(original.OutputBytes(0)).ToArray();

        float[] roundTrip = OnnxTestSupport.RunEngine(imported, nchwFloat);
        Assert.Equal(expected.Length, roundTrip.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            int q = (int)Math.Round(roundTrip[i] / outQuant.Scale) + outQuant.ZeroPoint;
            Assert.True(q == expected[i], $"class {i}: re-imported int8 {q}, original {expected[i]}");
        }

        // ONNX Runtime runs the QDQ export too (informational: its int8 arithmetic differs from TFLite's).
        float[] ort = RunOrt(onnx, nchwFloat, [1, 3, 128, 128]);
        double maxAbs = 0, maxRef = 0;
        int distinct = expected.Distinct().Count();
        for (int i = 0; i < ort.Length; i++)
        {
            maxAbs = Math.Max(maxAbs, Math.Abs(ort[i] - roundTrip[i]));
            maxRef = Math.Max(maxRef, Math.Abs(ort[i]));
        }
        output.WriteLine($"int8 QDQ mobilenet_v1_0.25_128 logits: re-import bit-exact over {expected.Length} classes ({distinct} distinct values); " +
            $"max |ours - ORT| = {maxAbs:E3} ({maxAbs / outQuant.Scale:F1} output steps), max |ORT| = {maxRef:G4}");
        Assert.True(distinct > 10, "the int8 logits are degenerate");
        Assert.True(maxAbs <= 0.1 * maxRef, $"ORT and the engine disagree by {maxAbs} on the int8 logits");
    }

    internal static float[] RunOrt(byte[] onnx, float[] input, int[] shape)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, IntraOpNumThreads = 1 };
        using var session = new OrtSession(onnx, options);
        string inputName = session.InputMetadata.Keys.Single();
        var tensor = new DenseTensor<float>(input, shape);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, tensor)]);
        return results.First().AsTensor<float>().ToArray();
    }
}
