using System.Text;
using EdgeMobileNet.Format.Model;

namespace EdgeMobileNet.Format.Io;

/// <summary>
/// Checks that a <see cref="ModelDefinition"/> can be stored in an .emn file: every rule of
/// docs/model-format.md that does not depend on file layout. <see cref="EmnReader"/> runs it on every
/// model it reads and <see cref="EmnWriter"/> on every model it writes, so both accept the same models.
/// </summary>
public static class EmnValidator
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Throws <see cref="ModelFormatException"/> ("source: location: problem") at the first violation.</summary>
    public static void Validate(ModelDefinition model, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sourceName);
        ValidateMetadata(model, sourceName);
        for (int i = 0; i < model.Tensors.Count; i++)
            ValidateTensor(model.Tensors[i], i, sourceName);
        for (int i = 0; i < model.Operators.Count; i++)
            ValidateOperator(model.Operators[i], i, model.Tensors.Count, sourceName);
        ValidateGraph(model, sourceName);
        if (model.InputContract is not null)
            ValidateInputContract(model.InputContract, sourceName);
        ValidateLabels(model, sourceName);
    }

    /// <summary>Byte length of a tensor with this shape and type, or an explanation of why it has none.</summary>
    internal static long ByteLength(int[] shape, DataType dataType, out string? problem)
    {
        problem = null;
        if (shape.Length > EmnFormat.MaxRank)
        {
            problem = $"rank {shape.Length} exceeds the limit of {EmnFormat.MaxRank}";
            return -1;
        }
        long bytes = dataType.ElementSize();
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] < 1)
            {
                problem = $"shape {FormatShape(shape)}: dim {i} is {shape[i]}, must be >= 1";
                return -1;
            }
            bytes *= shape[i]; // both factors <= int.MaxValue: no long overflow
            if (bytes > EmnFormat.MaxTensorBytes)
            {
                problem = $"shape {FormatShape(shape)} of {dataType.ToShortName()} exceeds the limit of {EmnFormat.MaxTensorBytes} bytes";
                return -1;
            }
        }
        return bytes;
    }

    private static void ValidateMetadata(ModelDefinition model, string source)
    {
        CheckString(model.Name, "model name", source, "metadata");
        CheckString(model.Producer, "producer", source, "metadata");
        CheckCount(model.Tensors.Count, EmnFormat.MaxTensors, "tensor count", source, "tensors");
        CheckCount(model.Operators.Count, EmnFormat.MaxOperators, "operator count", source, "operators");
    }

    private static void ValidateTensor(TensorDefinition? tensor, int index, string source)
    {
        if (tensor is null) throw EmnErrors.At(source, $"tensor {index}", "is null");
        string where = $"tensor {index} {EmnErrors.Quote(tensor.Name)}";
        CheckString(tensor.Name, "name", source, where);
        if (!tensor.DataType.IsDefined())
            throw EmnErrors.At(source, where, $"unknown data type code {(byte)tensor.DataType}");
        if (tensor.Shape is null) throw EmnErrors.At(source, where, "shape is null");
        long byteLength = ByteLength(tensor.Shape, tensor.DataType, out string? problem);
        if (problem is not null) throw EmnErrors.At(source, where, problem);
        ValidateQuantization(tensor, where, source);
        if (tensor.Data is { } data && data.Length != byteLength)
            throw EmnErrors.At(source, where,
                $"constant data is {data.Length} bytes, {tensor.DataType.ToShortName()}{tensor.ShapeText} needs {byteLength}");
    }

    private static void ValidateQuantization(TensorDefinition tensor, string where, string source)
    {
        QuantizationInfo? q = tensor.Quantization;
        string type = tensor.DataType.ToShortName();
        if (q is null)
        {
            if (tensor.DataType == DataType.Int8) throw EmnErrors.At(source, where, "i8 tensor has no quantization");
            return;
        }
        if (tensor.DataType == DataType.Float32) throw EmnErrors.At(source, where, "f32 tensor must not have quantization");
        if (q.Scales.Length != q.ZeroPoints.Length)
            throw EmnErrors.At(source, where, $"{q.Scales.Length} scales but {q.ZeroPoints.Length} zero points");
        ValidateQuantizationAxis(q, tensor.Shape, where, source);
        for (int i = 0; i < q.Scales.Length; i++)
        {
            float scale = q.Scales[i];
            if (!float.IsFinite(scale) || scale <= 0)
                throw EmnErrors.At(source, where, $"quantization scale {i} is {scale:R}, must be finite and > 0");
            int zeroPoint = q.ZeroPoints[i];
            bool ok = tensor.DataType == DataType.Int8 ? zeroPoint is >= sbyte.MinValue and <= sbyte.MaxValue : zeroPoint == 0;
            if (!ok)
                throw EmnErrors.At(source, where,
                    $"quantization zero point {i} is {zeroPoint}, must be {(tensor.DataType == DataType.Int8 ? "in -128..127" : "0")} for {type}");
        }
    }

    private static void ValidateQuantizationAxis(QuantizationInfo q, int[] shape, string where, string source)
    {
        int count = q.Scales.Length;
        if (count == 0) throw EmnErrors.At(source, where, "quantization has no scales");
        if (count == 1)
        {
            if (q.Axis != -1)
                throw EmnErrors.At(source, where, $"per-tensor quantization has axis {q.Axis}, must be -1");
            return;
        }
        if (q.Axis < 0 || q.Axis >= shape.Length)
            throw EmnErrors.At(source, where,
                $"per-channel quantization axis {q.Axis} is out of range for rank {shape.Length}");
        if (count != shape[q.Axis])
            throw EmnErrors.At(source, where,
                $"per-channel quantization has {count} scales, but dim {q.Axis} of shape {FormatShape(shape)} is {shape[q.Axis]}");
    }

    private static void ValidateOperator(OperatorDefinition? op, int index, int tensorCount, string source)
    {
        if (op is null) throw EmnErrors.At(source, $"operator {index}", "is null");
        string where = $"operator {index} {EmnErrors.Quote(op.Name)}";
        CheckString(op.Name, "name", source, where);
        if (!Enum.IsDefined(op.Type))
            throw EmnErrors.At(source, where, $"unknown operator type code {(ushort)op.Type}");
        where += $" ({op.Type})";
        CheckIndices(op.Inputs, "input", EmnFormat.MaxOperatorInputs, tensorCount, where, source);
        CheckIndices(op.Outputs, "output", EmnFormat.MaxOperatorOutputs, tensorCount, where, source);
        ValidateAttributes(op.Type, op.Attributes, where, source);
    }

    private static void ValidateAttributes(OperatorType type, OperatorAttributes a, string where, string source)
    {
        if (!Enum.IsDefined(a.Activation))
            throw EmnErrors.At(source, where, $"unknown fused activation code {(byte)a.Activation}");
        switch (type)
        {
            case OperatorType.Conv2D:
            case OperatorType.DepthwiseConv2D:
                CheckRange(a.StrideH, 1, "StrideH", where, source);
                CheckRange(a.StrideW, 1, "StrideW", where, source);
                CheckRange(a.DilationH, 1, "DilationH", where, source);
                CheckRange(a.DilationW, 1, "DilationW", where, source);
                CheckPadding(a, where, source);
                if (type == OperatorType.DepthwiseConv2D)
                    CheckRange(a.DepthMultiplier, 0, "DepthMultiplier", where, source);
                break;
            case OperatorType.AveragePool2D:
                CheckRange(a.StrideH, 1, "StrideH", where, source);
                CheckRange(a.StrideW, 1, "StrideW", where, source);
                CheckRange(a.FilterH, 1, "FilterH", where, source);
                CheckRange(a.FilterW, 1, "FilterW", where, source);
                CheckPadding(a, where, source);
                break;
            case OperatorType.Softmax:
                if (!float.IsFinite(a.Beta) || a.Beta <= 0)
                    throw EmnErrors.At(source, where, $"Beta is {a.Beta:R}, must be finite and > 0");
                break;
        }
    }

    private static void CheckPadding(OperatorAttributes a, string where, string source)
    {
        CheckRange(a.PadTop, 0, "PadTop", where, source);
        CheckRange(a.PadLeft, 0, "PadLeft", where, source);
        CheckRange(a.PadBottom, 0, "PadBottom", where, source);
        CheckRange(a.PadRight, 0, "PadRight", where, source);
    }

    private static void CheckRange(int value, int min, string field, string where, string source)
    {
        if (value < min || value > EmnFormat.MaxAttributeValue)
            throw EmnErrors.At(source, where, $"{field} is {value}, must be in {min}..{EmnFormat.MaxAttributeValue}");
    }

    private static void ValidateGraph(ModelDefinition model, string source)
    {
        int tensorCount = model.Tensors.Count;
        CheckIndices(model.Inputs, "graph input", EmnFormat.MaxGraphInputs, tensorCount, "graph", source);
        CheckIndices(model.Outputs, "graph output", EmnFormat.MaxGraphOutputs, tensorCount, "graph", source);
    }

    private static void CheckIndices(IReadOnlyList<int>? indices, string what, int max, int tensorCount, string where,
        string source)
    {
        if (indices is null) throw EmnErrors.At(source, where, $"{what} list is null");
        if (indices.Count < 1 || indices.Count > max)
            throw EmnErrors.At(source, where, $"{indices.Count} {what}s, must be 1..{max}");
        for (int i = 0; i < indices.Count; i++)
        {
            int t = indices[i];
            if (t < 0 || t >= tensorCount)
                throw EmnErrors.At(source, where, $"{what} {i} is tensor {t}, but the model has {tensorCount} tensors");
        }
    }

    private static void ValidateInputContract(InputContract c, string source)
    {
        const string where = "input contract";
        if (c.Width < 1 || c.Width > EmnFormat.MaxImageSide || c.Height < 1 || c.Height > EmnFormat.MaxImageSide)
            throw EmnErrors.At(source, where, $"image size {c.Width}x{c.Height}, each side must be 1..{EmnFormat.MaxImageSide}");
        int expectedChannels = c.ColorOrder switch
        {
            ColorOrder.Rgb or ColorOrder.Bgr => 3,
            ColorOrder.Grayscale => 1,
            _ => throw EmnErrors.At(source, where, $"unknown colour order code {(byte)c.ColorOrder}"),
        };
        if (c.Channels != expectedChannels)
            throw EmnErrors.At(source, where, $"{c.Channels} channels, colour order {c.ColorOrder} needs {expectedChannels}");
        CheckNormalization(c.Mean, "mean", mustBePositive: false, source);
        CheckNormalization(c.Std, "std", mustBePositive: true, source);
    }

    private static void CheckNormalization(float[]? values, string name, bool mustBePositive, string source)
    {
        if (values is null || values.Length != 3)
            throw EmnErrors.At(source, "input contract", $"{name} must have 3 values, has {values?.Length ?? 0}");
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]) || (mustBePositive && values[i] <= 0))
                throw EmnErrors.At(source, "input contract",
                    $"{name}[{i}] is {values[i]:R}, must be finite{(mustBePositive ? " and > 0" : "")}");
        }
    }

    private static void ValidateLabels(ModelDefinition model, string source)
    {
        if (model.LabelOffset < 0 || model.LabelOffset > EmnFormat.MaxLabelOffset)
            throw EmnErrors.At(source, "labels", $"label offset {model.LabelOffset}, must be 0..{EmnFormat.MaxLabelOffset}");
        CheckCount(model.Labels.Count, EmnFormat.MaxLabels, "label count", source, "labels");
        for (int i = 0; i < model.Labels.Count; i++)
            CheckString(model.Labels[i], $"label {i}", source, "labels");
    }

    private static void CheckCount(int count, int max, string what, string source, string where)
    {
        if (count > max) throw EmnErrors.At(source, where, $"{what} {count} exceeds the limit of {max}");
    }

    private static void CheckString(string? value, string what, string source, string where)
    {
        if (value is null) throw EmnErrors.At(source, where, $"{what} is null");
        int bytes;
        try
        {
            bytes = StrictUtf8.GetByteCount(value);
        }
        catch (EncoderFallbackException)
        {
            throw EmnErrors.At(source, where, $"{what} is not valid Unicode (unpaired surrogate)");
        }
        if (bytes > EmnFormat.MaxStringBytes)
            throw EmnErrors.At(source, where, $"{what} is {bytes} UTF-8 bytes, exceeds the limit of {EmnFormat.MaxStringBytes}");
    }

    internal static string FormatShape(int[] shape) => "[" + string.Join("x", shape) + "]";
}
