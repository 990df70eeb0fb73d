using EdgeMobileNet.Format.Model;

namespace EdgeMobileNet.Format.Io;

/// <summary>
/// Reads and fully validates an .emn file (docs/model-format.md). Any violation, whatever the file
/// holds, is a <see cref="ModelFormatException"/> with a one-line message naming what and where.
/// </summary>
public static class EmnReader
{
    /// <summary>
    /// Parses <paramref name="file"/>. Constant tensors' <see cref="TensorDefinition.Data"/> are slices of
    /// <paramref name="file"/> (no copy), so the memory must stay alive and unchanged while the model is used.
    /// </summary>
    /// <param name="sourceName">Names the file in error messages.</param>
    public static ModelDefinition Read(ReadOnlyMemory<byte> file, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(sourceName);
        ReadOnlySpan<byte> bytes = file.Span;
        Dictionary<EmnSectionKind, EmnSection> sections = EmnContainer.ReadSections(bytes, sourceName);

        EmnSection weightsSection = sections[EmnSectionKind.Weights];
        ReadOnlyMemory<byte> weights = file.Slice(weightsSection.Offset, weightsSection.Length);
        var model = new ModelDefinition();
        ReadMetadata(Cursor(bytes, sections[EmnSectionKind.Metadata], sourceName), model);
        ReadTensors(Cursor(bytes, sections[EmnSectionKind.Tensors], sourceName), weights, model);
        ReadOperators(Cursor(bytes, sections[EmnSectionKind.Operators], sourceName), model);
        ReadGraph(Cursor(bytes, sections[EmnSectionKind.Graph], sourceName), model);
        if (sections.TryGetValue(EmnSectionKind.InputContract, out EmnSection contract))
            model.InputContract = ReadInputContract(Cursor(bytes, contract, sourceName));
        if (sections.TryGetValue(EmnSectionKind.Labels, out EmnSection labels))
            ReadLabels(Cursor(bytes, labels, sourceName), model);

        EmnValidator.Validate(model, sourceName);
        return model;
    }

    private static BinaryCursor Cursor(ReadOnlySpan<byte> file, EmnSection section, string source) =>
        new(file.Slice(section.Offset, section.Length), section.Offset, source, section.Kind.DisplayName());

    private static void ReadMetadata(BinaryCursor c, ModelDefinition model)
    {
        model.Name = c.ReadString("model name", EmnFormat.MaxStringBytes);
        model.Producer = c.ReadString("producer", EmnFormat.MaxStringBytes);
        c.ExpectEnd();
    }

    // Smallest encodings, used to bound counts by the bytes present.
    private const int MinTensorBytes = 4 + 4;                  // empty name, dtype/rank/flags/reserved
    private const int MinOperatorBytes = 4 + 4 + 48 + 4 + 4;   // type.., empty name, attributes, two counts
    private const int MinLabelBytes = 4;

    private static void ReadTensors(BinaryCursor c, ReadOnlyMemory<byte> weights, ModelDefinition model)
    {
        int count = c.ReadCount("tensor count", EmnFormat.MaxTensors, MinTensorBytes);
        for (int i = 0; i < count; i++)
            model.Tensors.Add(ReadTensor(ref c, i, weights));
        c.ExpectEnd();
    }

    private static TensorDefinition ReadTensor(ref BinaryCursor c, int index, ReadOnlyMemory<byte> weights)
    {
        c.Record = $"tensor {index}";
        string name = c.ReadString("tensor name", EmnFormat.MaxStringBytes);
        c.Record = $"tensor {index} {EmnErrors.Quote(name)}";
        var dataType = (DataType)c.ReadByte("data type");
        int rank = c.ReadByte("rank");
        byte flags = c.ReadByte("flags");
        c.ReadReservedByte();
        if (rank > EmnFormat.MaxRank)
            throw c.Error($"rank {rank} exceeds the limit of {EmnFormat.MaxRank}");
        if ((flags & ~EmnFormat.KnownTensorFlags) != 0)
            throw c.Error($"unknown tensor flags 0x{flags:X2}");
        int[] shape = c.ReadInt32Array(rank, "shape");
        QuantizationInfo? quantization = (flags & EmnFormat.TensorQuantized) != 0 ? ReadQuantization(ref c) : null;
        // Careful: a bare null would convert to an empty ReadOnlyMemory<byte> and mark the tensor constant.
        ReadOnlyMemory<byte>? data = null;
        if ((flags & EmnFormat.TensorConstant) != 0) data = ReadDataReference(ref c, weights);
        return new TensorDefinition(name, dataType, shape, quantization, data);
    }

    private static QuantizationInfo ReadQuantization(ref BinaryCursor c)
    {
        int axis = c.ReadInt32("quantization axis");
        int count = c.ReadCount("quantization scale count", int.MaxValue, sizeof(float) + sizeof(int));
        if (count == 0)
            throw c.Error("quantization scale count is 0, must be >= 1");
        if (count == 1 && axis != -1)
            throw c.Error($"per-tensor quantization has axis {axis}, must be -1");
        float[] scales = c.ReadSingleArray(count, "quantization scales");
        int[] zeroPoints = c.ReadInt32Array(count, "quantization zero points");
        return new QuantizationInfo(scales, zeroPoints, axis);
    }

    private static ReadOnlyMemory<byte> ReadDataReference(ref BinaryCursor c, ReadOnlyMemory<byte> weights)
    {
        ulong offset = c.ReadUInt64("data offset");
        ulong length = c.ReadUInt64("data length");
        if (offset % EmnFormat.WeightsAlignment != 0)
            throw c.Error($"data offset {offset} is not a multiple of {EmnFormat.WeightsAlignment}");
        if (offset > (ulong)weights.Length || length > (ulong)weights.Length - offset)
            throw c.Error($"data offset {offset} + length {length} exceeds the weights section ({weights.Length} bytes)");
        return weights.Slice((int)offset, (int)length);
    }

    private static void ReadOperators(BinaryCursor c, ModelDefinition model)
    {
        int count = c.ReadCount("operator count", EmnFormat.MaxOperators, MinOperatorBytes);
        for (int i = 0; i < count; i++)
            model.Operators.Add(ReadOperator(ref c, i));
        c.ExpectEnd();
    }

    private static OperatorDefinition ReadOperator(ref BinaryCursor c, int index)
    {
        c.Record = $"operator {index}";
        var type = (OperatorType)c.ReadUInt16("operator type");
        var activation = (FusedActivation)c.ReadByte("fused activation");
        c.ReadReservedByte();
        string name = c.ReadString("operator name", EmnFormat.MaxStringBytes);
        c.Record = $"operator {index} {EmnErrors.Quote(name)}";
        OperatorAttributes attributes = ReadAttributes(ref c, activation);
        int[] inputs = ReadIndices(ref c, "input count", EmnFormat.MaxOperatorInputs);
        int[] outputs = ReadIndices(ref c, "output count", EmnFormat.MaxOperatorOutputs);
        return new OperatorDefinition(type, inputs, outputs, attributes, name);
    }

    private static OperatorAttributes ReadAttributes(ref BinaryCursor c, FusedActivation activation) => new()
    {
        StrideH = c.ReadInt32("StrideH"),
        StrideW = c.ReadInt32("StrideW"),
        DilationH = c.ReadInt32("DilationH"),
        DilationW = c.ReadInt32("DilationW"),
        PadTop = c.ReadInt32("PadTop"),
        PadLeft = c.ReadInt32("PadLeft"),
        PadBottom = c.ReadInt32("PadBottom"),
        PadRight = c.ReadInt32("PadRight"),
        FilterH = c.ReadInt32("FilterH"),
        FilterW = c.ReadInt32("FilterW"),
        DepthMultiplier = c.ReadInt32("DepthMultiplier"),
        Beta = c.ReadSingle("Beta"),
        Activation = activation,
    };

    private static int[] ReadIndices(ref BinaryCursor c, string countField, int max)
    {
        int count = c.ReadCount(countField, max, sizeof(int));
        return c.ReadInt32Array(count, "tensor indices");
    }

    private static void ReadGraph(BinaryCursor c, ModelDefinition model)
    {
        c.Record = "graph";
        model.Inputs.AddRange(ReadIndices(ref c, "graph input count", EmnFormat.MaxGraphInputs));
        model.Outputs.AddRange(ReadIndices(ref c, "graph output count", EmnFormat.MaxGraphOutputs));
        c.ExpectEnd();
    }

    private static InputContract ReadInputContract(BinaryCursor c)
    {
        c.Record = "input contract";
        var contract = new InputContract
        {
            Width = c.ReadInt32("width"),
            Height = c.ReadInt32("height"),
            Channels = c.ReadInt32("channels"),
            ColorOrder = (ColorOrder)c.ReadByte("colour order"),
        };
        for (int i = 0; i < 3; i++) c.ReadReservedByte();
        contract.Mean = c.ReadSingleArray(3, "mean");
        contract.Std = c.ReadSingleArray(3, "std");
        c.ExpectEnd();
        return contract;
    }

    private static void ReadLabels(BinaryCursor c, ModelDefinition model)
    {
        c.Record = "labels";
        model.LabelOffset = c.ReadInt32("label offset");
        int count = c.ReadCount("label count", EmnFormat.MaxLabels, MinLabelBytes);
        for (int i = 0; i < count; i++)
            model.Labels.Add(c.ReadString("label", EmnFormat.MaxStringBytes));
        c.ExpectEnd();
    }
}
