using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Import;
using EdgeMobileNet.Import.Onnx;
using Xunit;
using Xunit.Abstractions;

namespace EdgeMobileNet.Tests.Import;

/// <summary>
/// ONNX's own node test cases (Debian package libonnx-testdata, /usr/share/libonnx-testdata/data/node): every case of
/// the operators the importer claims is imported and run; each either matches the expected outputs (fp32: |a-b| &lt;=
/// 1e-4 * max(|b|, 1); integer outputs exactly) or is rejected with an ImportException. Nothing else is allowed.
/// </summary>
public sealed class OnnxNodeTests(ITestOutputHelper output)
{
    public const string NodeDataDirectory = "/usr/share/libonnx-testdata/data/node";

    private static readonly Regex Relevant = new(
        "^test_(basic_conv|conv|relu|clip|add|gemm|matmul|softmax|globalaveragepool|averagepool|flatten|reshape|batchnorm|qlinear|quantizelinear|dequantizelinear)",
        RegexOptions.CultureInvariant);

    /// <summary>Cases that must pass (guards against the importer silently rejecting what it supports).</summary>
    private static readonly string[] MustPass =
    [
        "test_basic_conv_with_padding", "test_basic_conv_without_padding", "test_conv_with_strides_padding",
        "test_conv_with_strides_no_padding", "test_conv_with_strides_and_asymmetric_padding", "test_conv_with_autopad_same",
        "test_relu", "test_add", "test_gemm_default_no_bias", "test_gemm_transposeB", "test_matmul_2d",
        "test_globalaveragepool", "test_averagepool_2d_default", "test_flatten_axis1", "test_reshape_reordered_all_dims",
        "test_softmax_example", "test_batchnorm_example", "test_quantizelinear", "test_dequantizelinear", "test_qlinearmatmul_2D",
    ];

    [SkippableFact]
    public void Node_test_cases_match_or_are_rejected_clearly()
    {
        Skip.IfNot(Directory.Exists(NodeDataDirectory),
            $"{NodeDataDirectory} is absent: install the Debian package libonnx-testdata (scripts/setup.sh does)");
        var cases = Directory.GetDirectories(NodeDataDirectory).Select(Path.GetFileName).OfType<string>()
            .Where(n => Relevant.IsMatch(n)).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(cases);

        var passed = new List<string>();
        var unsupported = new List<string>();
        var failed = new List<string>();
        foreach (string name in cases)
        {
            string verdict;
            try
            {
                verdict = RunCase(Path.Combine(NodeDataDirectory, name));
            }
            catch (ImportException e)
            {
                unsupported.Add(name);
                output.WriteLine($"UNSUPPORTED {name}: {e.Message}");
                continue;
            }
            catch (Exception e)
            {
                verdict = $"{e.GetType().Name}: {e.Message}";
            }
            if (verdict.Length == 0)
            {
                passed.Add(name);
                output.WriteLine($"PASS {name}");
            }
            else
            {
                failed.Add(name);
                output.WriteLine($"FAIL {name}: {verdict}");
            }
        }
        output.WriteLine($"ONNX node tests: {passed.Count} passed, {unsupported.Count} unsupported (clear ImportException), {failed.Count} failed of {cases.Count}");
        Assert.True(failed.Count == 0, $"{failed.Count} node test(s) failed: {string.Join(", ", failed)}");
        var missing = MustPass.Where(m => cases.Contains(m) && !passed.Contains(m)).ToList();
        Assert.True(missing.Count == 0, $"expected to pass: {string.Join(", ", missing)}");
    }

    /// <summary>Imports and runs one case; returns "" when every output matches, else what differed.</summary>
    private static string RunCase(string directory)
    {
        byte[] modelBytes = File.ReadAllBytes(Path.Combine(directory, "model.onnx"));
        var onnx = OnnxProtoReader.ReadModel(modelBytes);
        string dataSet = Path.Combine(directory, "test_data_set_0");
        var inputs = Directory.GetFiles(dataSet, "input_*.pb").Order(StringComparer.Ordinal)
            .Select(f => OnnxProtoReader.ReadTensor(File.ReadAllBytes(f))).ToList();
        var expected = Directory.GetFiles(dataSet, "output_*.pb").Order(StringComparer.Ordinal)
            .Select(f => OnnxProtoReader.ReadTensor(File.ReadAllBytes(f))).ToList();
        var initializers = onnx.Graph!.Initializers.Select(i => i.Name).ToHashSet();
        var runtimeInputs = onnx.Graph.Inputs.Where(i => !initializers.Contains(i.Name)).ToList();
        if (runtimeInputs.Count != inputs.Count) return $"case has {inputs.Count} input files for {runtimeInputs.Count} graph inputs";

        // The first input is fed at run time; the others (weights, shapes, scales) are bound as constants.
        var bound = new Dictionary<string, OnnxTensor>();
        for (int i = 1; i < inputs.Count; i++) bound[runtimeInputs[i].Name] = inputs[i];
        var importer = new OnnxImporter { BoundInputs = bound };
        var model = importer.Import(modelBytes, Path.GetFileName(directory)).Model;

        using var session = InferenceSession.Create(model);
        if (session.InputCount != 1) return $"model has {session.InputCount} runtime inputs";
        Feed(session, inputs[0]);
        session.Run();
        if (session.OutputCount != expected.Count) return $"{session.OutputCount} outputs, expected {expected.Count}";
        for (int o = 0; o < expected.Count; o++)
        {
            string problem = Compare(session, o, expected[o], importer.LastOutputTypes[o]);
            if (problem.Length > 0) return $"output {o}: {problem}";
        }
        return string.Empty;
    }

    private static void Feed(InferenceSession session, OnnxTensor input)
    {
        var tensor = session.InputTensor(0);
        if (tensor.ElementCount != input.ElementCount) throw new InvalidOperationException("input element count differs");
        if (tensor.DataType == DataType.Float32)
        {
            input.ToFloats().CopyTo(session.Input<float>(0));
            return;
        }
        var values = input.ToInt64s();
        var target = session.Input<sbyte>(0);
        int shift = input.DataType == OnnxDataType.UInt8 ? 128 : 0;
        for (int i = 0; i < values.Length; i++) target[i] = (sbyte)(values[i] - shift);
    }

    private static string Compare(InferenceSession session, int index, OnnxTensor expected, OnnxDataType sourceType)
    {
        var tensor = session.OutputTensor(index);
        if (tensor.ElementCount != expected.ElementCount) return $"{tensor.ElementCount} elements, expected {expected.ElementCount}";
        if (expected.DataType == OnnxDataType.Float)
        {
            if (tensor.DataType != DataType.Float32) return $"output is {tensor.DataType}, expected float";
            var actual = session.Output<float>(index);
            var want = expected.ToFloats();
            for (int i = 0; i < want.Length; i++)
            {
                if (!(Math.Abs(actual[i] - want[i]) <= 1e-4 * Math.Max(Math.Abs(want[i]), 1.0)))
                    return $"element {i}: {actual[i]} vs expected {want[i]}";
            }
            return string.Empty;
        }
        if (tensor.DataType != DataType.Int8) return $"output is {tensor.DataType}, expected {expected.DataType}";
        var q = MemoryMarshal.Cast<byte, sbyte>(session.OutputBytes(index));
        var wantInts = expected.ToInt64s();
        int shift = expected.DataType == OnnxDataType.UInt8 || sourceType == OnnxDataType.UInt8 ? 128 : 0;
        for (int i = 0; i < wantInts.Length; i++)
        {
            if (q[i] + shift != wantInts[i]) return $"element {i}: {q[i] + shift} vs expected {wantInts[i]}";
        }
        return string.Empty;
    }
}
