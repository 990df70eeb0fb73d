using EdgeMobileNet.Format;
using EdgeMobileNet.Format.Io;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Analysis;
using Google.Protobuf;

namespace EdgeMobileNet.Import.Onnx;

/// <summary>
/// Imports an ONNX model (ModelProto, default domain): Conv (group 1 and depthwise), BatchNormalization (folded
/// into the preceding Conv, or a 1x1 depthwise convolution), Relu and Clip(0,6) (fused), Add, GlobalAveragePool,
/// AveragePool, Flatten, Reshape, Gemm, MatMul (+Add bias), Softmax, QuantizeLinear/DequantizeLinear groups
/// (QDQ) and QLinearConv/QLinearMatMul as int8 operators, uint8 shifted exactly to int8. NCHW activations become
/// NHWC with the weights transposed once; graph inputs keep the source layout (a Transpose follows them) and
/// rank-4 outputs are transposed back, so source tensors can be fed and compared as they are.
/// </summary>
public sealed class OnnxImporter : IModelImporter
{
    public string FormatName => "ONNX";

    /// <summary>
    /// Graph inputs to bind to constant values before conversion (e.g. a Conv's weights that a test feeds as an
    /// input); keyed by input name.
    /// </summary>
    public IReadOnlyDictionary<string, OnnxTensor>? BoundInputs { get; init; }

    /// <summary>Source element types of the graph outputs, in order, from the last import (uint8 outputs are shifted by -128).</summary>
    public IReadOnlyList<OnnxDataType> LastOutputTypes { get; private set; } = [];

    /// <summary>
    /// True when the bytes plausibly start a ModelProto: a varint field 1 (ir_version) or another ModelProto field
    /// tag as the first byte. ONNX has no magic number, so this is a weak check.
    /// </summary>
    public static bool LooksLikeOnnx(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 2 && bytes[0] is 0x08 or 0x12 or 0x1A or 0x22 or 0x28 or 0x32 or 0x3A or 0x42;

    public ImportResult Import(byte[] bytes, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        OnnxModel onnx;
        try
        {
            onnx = OnnxProtoReader.ReadModel(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ImportException($"{sourceName}: not a valid ONNX protobuf: {e.Message}");
        }
        if (onnx.Graph is null) throw new ImportException($"{sourceName}: the ONNX model has no graph");
        if (onnx.DefaultOpset > 23) throw new ImportException($"{sourceName}: ONNX opset {onnx.DefaultOpset} is newer than supported (7..23)");

        List<string> errors;
        ModelDefinition model;
        List<OnnxDataType> outputTypes;
        try
        {
            (model, errors, outputTypes) = new OnnxGraphConverter(onnx, BoundInputs).Convert();
        }
        catch (OnnxNodeException e)
        {
            throw new ImportException($"{sourceName}: {e.Message}");
        }
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or InvalidOperationException
            or OverflowException or InvalidCastException or NullReferenceException or KeyNotFoundException)
        {
            // Safety net for hostile input the converter did not anticipate; the mutation tests assert it is never reached.
            throw new ImportException($"{sourceName}: internal importer error on malformed input ({e.GetType().Name}: {e.Message})");
        }
        if (errors.Count > 0)
        {
            const int shown = 50;
            string list = string.Join("; ", errors.Take(shown)) + (errors.Count > shown ? $"; and {errors.Count - shown} more" : "");
            throw new ImportException($"{sourceName}: cannot import {errors.Count} item(s): {list}");
        }
        if (model.Name.Length == 0) model.Name = Path.GetFileNameWithoutExtension(sourceName);
        if (model.Name.Length > 200) model.Name = model.Name[..200];
        try
        {
            EmnValidator.Validate(model, sourceName);
            GraphValidator.Validate(model, sourceName);
        }
        catch (ModelFormatException e)
        {
            throw new ImportException($"{sourceName}: the converted graph is not valid: {e.Message}");
        }
        LastOutputTypes = outputTypes;
        return new ImportResult(model, Summarize(onnx, model));
    }

    private static ImportSummary Summarize(OnnxModel onnx, ModelDefinition model)
    {
        var summary = new ImportSummary { SourceFormat = $"ONNX (opset {onnx.DefaultOpset}, producer {onnx.ProducerName} {onnx.ProducerVersion})".Trim() };
        foreach (int i in model.Inputs) summary.Inputs.Add(model.Tensors[i].ToString());
        foreach (int o in model.Outputs) summary.Outputs.Add(model.Tensors[o].ToString());
        foreach (var node in onnx.Graph!.Nodes)
            summary.SourceOperators[node.OpType] = summary.SourceOperators.GetValueOrDefault(node.OpType) + 1;
        summary.SourceOperatorCount = onnx.Graph.Nodes.Count;
        var weights = model.Operators.Where(o => o.Type is OperatorType.Conv2D or OperatorType.DepthwiseConv2D or OperatorType.FullyConnected)
            .Select(o => model.Tensors[o.Inputs[1]]).ToList();
        bool anyInt8 = weights.Any(w => w.DataType == DataType.Int8);
        bool anyF32 = weights.Any(w => w.DataType == DataType.Float32);
        bool perChannel = weights.Any(w => w.Quantization?.IsPerChannel == true);
        summary.Quantization = anyInt8 && anyF32 ? "mixed fp32/int8" : anyInt8 ? (perChannel ? "int8 per-channel" : "int8 per-tensor") : "fp32";
        if (model.Inputs.Any(i => model.Tensors[i].Shape.Length == 4))
            summary.Notes.Add("NCHW input kept; a Transpose to NHWC follows it (weights transposed at import)");
        return summary;
    }
}
