using System.Buffers.Binary;
using EdgeMobileNet.Format.Model;

namespace EdgeMobileNet.Format.Io;

/// <summary>
/// Writes a <see cref="ModelDefinition"/> as an .emn file (docs/model-format.md). The output depends only
/// on the model, so the same model always gives the same bytes, and reading a written file and writing
/// it again reproduces it byte for byte.
/// </summary>
public static class EmnWriter
{
    /// <summary>Validates the model (<see cref="ModelFormatException"/> when invalid) and returns the file's bytes.</summary>
    public static byte[] Write(ModelDefinition model) => Write(model, validate: true);

    /// <summary>Writes the file to <paramref name="path"/>, replacing any existing file.</summary>
    public static void WriteFile(ModelDefinition model, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes = Write(model);
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>
    /// Writes without validating when <paramref name="validate"/> is false: only for tests that need
    /// structurally sound files with invalid content. The model must still be encodable.
    /// </summary>
    internal static byte[] Write(ModelDefinition model, bool validate)
    {
        ArgumentNullException.ThrowIfNull(model);
        string source = string.IsNullOrEmpty(model.Name) ? "<model>" : $"model {EmnErrors.Quote(model.Name)}";
        if (validate) EmnValidator.Validate(model, source);

        long[] dataOffsets = PlanWeights(model, out long weightsLength);
        var sections = new List<(EmnSectionKind Kind, BinaryBuilder Payload)>
        {
            (EmnSectionKind.Metadata, BuildMetadata(model)),
            (EmnSectionKind.Tensors, BuildTensors(model, dataOffsets)),
            (EmnSectionKind.Operators, BuildOperators(model)),
            (EmnSectionKind.Graph, BuildGraph(model)),
        };
        if (model.InputContract is not null)
            sections.Add((EmnSectionKind.InputContract, BuildInputContract(model.InputContract)));
        if (model.Labels.Count > 0 || model.LabelOffset != 0)
            sections.Add((EmnSectionKind.Labels, BuildLabels(model)));
        return Assemble(model, sections, dataOffsets, weightsLength, source);
    }

    /// <summary>Offsets of constant data within the weights section (-1 for activations), in tensor order.</summary>
    private static long[] PlanWeights(ModelDefinition model, out long weightsLength)
    {
        var offsets = new long[model.Tensors.Count];
        long position = 0;
        for (int i = 0; i < offsets.Length; i++)
        {
            offsets[i] = -1;
            if (model.Tensors[i].Data is not { } data) continue;
            offsets[i] = EmnFormat.AlignUp(position, EmnFormat.WeightsAlignment);
            position = offsets[i] + data.Length;
        }
        weightsLength = position;
        return offsets;
    }

    private static BinaryBuilder BuildMetadata(ModelDefinition model)
    {
        var b = new BinaryBuilder();
        b.WriteString(model.Name);
        b.WriteString(model.Producer);
        return b;
    }

    private static BinaryBuilder BuildTensors(ModelDefinition model, long[] dataOffsets)
    {
        var b = new BinaryBuilder();
        b.WriteCount(model.Tensors.Count);
        for (int i = 0; i < model.Tensors.Count; i++)
            WriteTensor(b, model.Tensors[i], dataOffsets[i]);
        return b;
    }

    private static void WriteTensor(BinaryBuilder b, TensorDefinition tensor, long dataOffset)
    {
        byte flags = 0;
        if (tensor.Quantization is not null) flags |= EmnFormat.TensorQuantized;
        if (tensor.Data.HasValue) flags |= EmnFormat.TensorConstant;
        b.WriteString(tensor.Name);
        b.WriteByte((byte)tensor.DataType);
        b.WriteByte((byte)tensor.Shape.Length);
        b.WriteByte(flags);
        b.WriteByte(0);
        foreach (int dim in tensor.Shape) b.WriteInt32(dim);
        if (tensor.Quantization is { } q) WriteQuantization(b, q);
        if (tensor.Data is { } data)
        {
            b.WriteUInt64((ulong)dataOffset);
            b.WriteUInt64((ulong)data.Length);
        }
    }

    private static void WriteQuantization(BinaryBuilder b, QuantizationInfo q)
    {
        b.WriteInt32(q.Axis);
        b.WriteCount(q.Scales.Length);
        foreach (float scale in q.Scales) b.WriteSingle(scale);
        foreach (int zeroPoint in q.ZeroPoints) b.WriteInt32(zeroPoint);
    }

    private static BinaryBuilder BuildOperators(ModelDefinition model)
    {
        var b = new BinaryBuilder();
        b.WriteCount(model.Operators.Count);
        foreach (OperatorDefinition op in model.Operators)
        {
            b.WriteUInt16((ushort)op.Type);
            b.WriteByte((byte)op.Attributes.Activation);
            b.WriteByte(0);
            b.WriteString(op.Name);
            WriteAttributes(b, op.Attributes);
            b.WriteInt32List(op.Inputs);
            b.WriteInt32List(op.Outputs);
        }
        return b;
    }

    private static void WriteAttributes(BinaryBuilder b, OperatorAttributes a)
    {
        b.WriteInt32(a.StrideH);
        b.WriteInt32(a.StrideW);
        b.WriteInt32(a.DilationH);
        b.WriteInt32(a.DilationW);
        b.WriteInt32(a.PadTop);
        b.WriteInt32(a.PadLeft);
        b.WriteInt32(a.PadBottom);
        b.WriteInt32(a.PadRight);
        b.WriteInt32(a.FilterH);
        b.WriteInt32(a.FilterW);
        b.WriteInt32(a.DepthMultiplier);
        b.WriteSingle(a.Beta);
    }

    private static BinaryBuilder BuildGraph(ModelDefinition model)
    {
        var b = new BinaryBuilder();
        b.WriteInt32List(model.Inputs);
        b.WriteInt32List(model.Outputs);
        return b;
    }

    private static BinaryBuilder BuildInputContract(InputContract c)
    {
        var b = new BinaryBuilder();
        b.WriteInt32(c.Width);
        b.WriteInt32(c.Height);
        b.WriteInt32(c.Channels);
        b.WriteByte((byte)c.ColorOrder);
        b.WriteByte(0);
        b.WriteByte(0);
        b.WriteByte(0);
        for (int i = 0; i < 3; i++) b.WriteSingle(c.Mean[i]);
        for (int i = 0; i < 3; i++) b.WriteSingle(c.Std[i]);
        return b;
    }

    private static BinaryBuilder BuildLabels(ModelDefinition model)
    {
        var b = new BinaryBuilder();
        b.WriteInt32(model.LabelOffset);
        b.WriteCount(model.Labels.Count);
        foreach (string label in model.Labels) b.WriteString(label);
        return b;
    }

    /// <summary>Lays out header, section table, sections (8-aligned) and weights (64-aligned); fills in checksums.</summary>
    private static byte[] Assemble(ModelDefinition model, List<(EmnSectionKind Kind, BinaryBuilder Payload)> sections,
        long[] dataOffsets, long weightsLength, string source)
    {
        int sectionCount = sections.Count + 1;
        var entries = new (EmnSectionKind Kind, long Offset, long Length)[sectionCount];
        long position = EmnFormat.HeaderSize + (long)sectionCount * EmnFormat.SectionEntrySize;
        for (int i = 0; i < sections.Count; i++)
        {
            position = EmnFormat.AlignUp(position, EmnFormat.SectionAlignment);
            entries[i] = (sections[i].Kind, position, sections[i].Payload.Length);
            position += sections[i].Payload.Length;
        }
        long weightsOffset = EmnFormat.AlignUp(position, EmnFormat.WeightsAlignment);
        entries[^1] = (EmnSectionKind.Weights, weightsOffset, weightsLength);
        long fileLength = weightsOffset + weightsLength;
        if (fileLength > EmnFormat.MaxFileLength)
            throw EmnErrors.At(source, "weights", $"the file would be {fileLength} bytes, exceeds the limit of {EmnFormat.MaxFileLength}");

        var file = new byte[fileLength];
        for (int i = 0; i < sections.Count; i++)
            sections[i].Payload.WrittenSpan.CopyTo(file.AsSpan((int)entries[i].Offset));
        CopyWeights(model, dataOffsets, file.AsSpan((int)weightsOffset));
        WriteSectionTable(file, entries);
        WriteHeader(file, sectionCount);
        return file;
    }

    private static void CopyWeights(ModelDefinition model, long[] dataOffsets, Span<byte> weights)
    {
        for (int i = 0; i < dataOffsets.Length; i++)
        {
            if (model.Tensors[i].Data is { } data)
                data.Span.CopyTo(weights[(int)dataOffsets[i]..]);
        }
    }

    private static void WriteSectionTable(byte[] file, (EmnSectionKind Kind, long Offset, long Length)[] entries)
    {
        for (int i = 0; i < entries.Length; i++)
        {
            (EmnSectionKind kind, long offset, long length) = entries[i];
            Span<byte> entry = file.AsSpan(EmnFormat.HeaderSize + i * EmnFormat.SectionEntrySize, EmnFormat.SectionEntrySize);
            BinaryPrimitives.WriteUInt32LittleEndian(entry, (uint)kind);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], EmnChecksum.Compute(file.AsSpan((int)offset, (int)length)));
            BinaryPrimitives.WriteUInt64LittleEndian(entry[8..], (ulong)offset);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[16..], (ulong)length);
        }
    }

    private static void WriteHeader(byte[] file, int sectionCount)
    {
        Span<byte> header = file.AsSpan(0, EmnFormat.HeaderSize);
        EmnFormat.Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[EmnFormat.VersionOffset..], EmnFormat.Version);
        BinaryPrimitives.WriteUInt32LittleEndian(header[EmnFormat.FlagsOffset..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header[EmnFormat.HeaderSizeOffset..], EmnFormat.HeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(header[EmnFormat.SectionCountOffset..], (uint)sectionCount);
        BinaryPrimitives.WriteUInt64LittleEndian(header[EmnFormat.FileLengthOffset..], (ulong)file.Length);
        ReadOnlySpan<byte> table = file.AsSpan(EmnFormat.HeaderSize, sectionCount * EmnFormat.SectionEntrySize);
        BinaryPrimitives.WriteUInt32LittleEndian(header[EmnFormat.HeaderCrcOffset..], EmnChecksum.ComputeHeader(header, table));
    }
}
