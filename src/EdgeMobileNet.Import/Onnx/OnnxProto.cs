using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Google.Protobuf;

namespace EdgeMobileNet.Import.Onnx;

/// <summary>ONNX TensorProto.DataType codes (onnx.proto).</summary>
public enum OnnxDataType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
}

/// <summary>The subset of onnx.TensorProto the importer reads.</summary>
public sealed class OnnxTensor
{
    public string Name { get; set; } = string.Empty;
    public OnnxDataType DataType { get; set; }
    public List<long> Dims { get; } = [];
    public byte[]? RawData { get; set; }
    public List<float> FloatData { get; } = [];
    public List<long> IntData { get; } = [];
    public List<double> DoubleData { get; } = [];
    public bool HasExternalData { get; set; }
    public bool HasSegment { get; set; }
    public int StringCount { get; set; }

    public static int ElementSize(OnnxDataType type) => type switch
    {
        OnnxDataType.Float or OnnxDataType.Int32 => 4,
        OnnxDataType.UInt8 or OnnxDataType.Int8 or OnnxDataType.Bool => 1,
        OnnxDataType.Int64 or OnnxDataType.Double => 8,
        OnnxDataType.UInt16 or OnnxDataType.Int16 or OnnxDataType.Float16 => 2,
        _ => 0,
    };

    /// <summary>Element count from the dims, or -1 when a dim is negative or the product exceeds int.MaxValue.</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Dims)
            {
                if (d < 0 || d > int.MaxValue) return -1;
                n *= d;
                if (n > int.MaxValue) return -1;
            }
            return n;
        }
    }

    /// <summary>Why the data cannot be read (external, wrong length, unsupported type), or null when it can.</summary>
    public string? DataProblem()
    {
        if (HasExternalData) return "stores its data externally (not supported)";
        if (HasSegment) return "is segmented (not supported)";
        long count = ElementCount;
        if (count < 0) return $"has invalid dims [{string.Join(",", Dims)}]";
        int size = ElementSize(DataType);
        if (DataType is not (OnnxDataType.Float or OnnxDataType.UInt8 or OnnxDataType.Int8 or OnnxDataType.Int32
            or OnnxDataType.Int64 or OnnxDataType.Double or OnnxDataType.Bool))
            return $"has unsupported data type {DataType}";
        if (RawData is not null)
        {
            if (RawData.LongLength != count * size)
                return $"raw_data is {RawData.Length} bytes, but [{string.Join(",", Dims)}] of {DataType} needs {count * size}";
            return null;
        }
        long typed = DataType switch
        {
            OnnxDataType.Float => FloatData.Count,
            OnnxDataType.Double => DoubleData.Count,
            _ => IntData.Count,
        };
        if (typed != count) return $"holds {typed} values, but [{string.Join(",", Dims)}] needs {count}";
        return null;
    }

    /// <summary>The values as float (any numeric type). Call only when <see cref="DataProblem"/> is null.</summary>
    public float[] ToFloats()
    {
        int count = (int)ElementCount;
        var result = new float[count];
        if (RawData is { } raw)
        {
            for (int i = 0; i < count; i++)
            {
                result[i] = DataType switch
                {
                    OnnxDataType.Float => BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan(i * 4)),
                    OnnxDataType.Double => (float)BinaryPrimitives.ReadDoubleLittleEndian(raw.AsSpan(i * 8)),
                    _ => ReadRawInteger(raw, i),
                };
            }
            return result;
        }
        for (int i = 0; i < count; i++)
        {
            result[i] = DataType switch
            {
                OnnxDataType.Float => FloatData[i],
                OnnxDataType.Double => (float)DoubleData[i],
                _ => IntData[i],
            };
        }
        return result;
    }

    /// <summary>The values as integers (integer types). Call only when <see cref="DataProblem"/> is null.</summary>
    public long[] ToInt64s()
    {
        int count = (int)ElementCount;
        var result = new long[count];
        for (int i = 0; i < count; i++)
        {
            result[i] = RawData is { } raw ? ReadRawInteger(raw, i) : DataType switch
            {
                OnnxDataType.Float => (long)FloatData[i],
                OnnxDataType.Double => (long)DoubleData[i],
                _ => IntData[i],
            };
        }
        return result;
    }

    private long ReadRawInteger(byte[] raw, int i) => DataType switch
    {
        OnnxDataType.UInt8 or OnnxDataType.Bool => raw[i],
        OnnxDataType.Int8 => (sbyte)raw[i],
        OnnxDataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(i * 4)),
        OnnxDataType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(raw.AsSpan(i * 8)),
        OnnxDataType.Float => (long)BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan(i * 4)),
        _ => 0,
    };

    public bool IsInteger => DataType is OnnxDataType.UInt8 or OnnxDataType.Int8 or OnnxDataType.Int32 or OnnxDataType.Int64;
}

/// <summary>onnx.AttributeProto (the fields the importer reads).</summary>
public sealed class OnnxAttribute
{
    public string Name { get; set; } = string.Empty;
    public int Type { get; set; }
    public float F { get; set; }
    public long I { get; set; }
    public byte[]? S { get; set; }
    public OnnxTensor? T { get; set; }
    public List<float> Floats { get; } = [];
    public List<long> Ints { get; } = [];
    public bool HasGraph { get; set; }
    public string? RefAttrName { get; set; }
}

/// <summary>onnx.NodeProto.</summary>
public sealed class OnnxNode
{
    public List<string> Inputs { get; } = [];
    public List<string> Outputs { get; } = [];
    public string Name { get; set; } = string.Empty;
    public string OpType { get; set; } = string.Empty;
    public string Domain { get; set; } = string.Empty;
    public List<OnnxAttribute> Attributes { get; } = [];

    public OnnxAttribute? Attribute(string name) => Attributes.FirstOrDefault(a => a.Name == name);
}

/// <summary>onnx.ValueInfoProto with a tensor type: elem_type and shape (dims; null entries are symbolic or unknown).</summary>
public sealed class OnnxValueInfo
{
    public string Name { get; set; } = string.Empty;
    public OnnxDataType ElementType { get; set; }
    public bool HasTensorType { get; set; }
    public bool HasShape { get; set; }
    public List<long?> Shape { get; } = [];
}

/// <summary>onnx.GraphProto.</summary>
public sealed class OnnxGraph
{
    public string Name { get; set; } = string.Empty;
    public List<OnnxNode> Nodes { get; } = [];
    public List<OnnxTensor> Initializers { get; } = [];
    public int SparseInitializerCount { get; set; }
    public List<OnnxValueInfo> Inputs { get; } = [];
    public List<OnnxValueInfo> Outputs { get; } = [];
    public List<OnnxValueInfo> ValueInfo { get; } = [];
}

/// <summary>onnx.ModelProto.</summary>
public sealed class OnnxModel
{
    public long IrVersion { get; set; }
    public string ProducerName { get; set; } = string.Empty;
    public string ProducerVersion { get; set; } = string.Empty;
    public List<(string Domain, long Version)> OpsetImports { get; } = [];
    public OnnxGraph? Graph { get; set; }

    /// <summary>The opset version of the default ONNX domain ("" or "ai.onnx"); 1 when not imported.</summary>
    public long DefaultOpset =>
        OpsetImports.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(1).Max();
}

/// <summary>
/// Reads ONNX protobuf messages with <see cref="CodedInputStream"/>. Every length is checked against the
/// bytes present by the stream (a truncated field throws), every repeated field grows by at least one byte
/// of input per element, and nesting is bounded, so hostile input cannot make it allocate more than a small
/// multiple of its own size. Errors surface as <see cref="InvalidProtocolBufferException"/>.
/// </summary>
public static class OnnxProtoReader
{
    private const int WireVarint = 0, WireFixed64 = 1, WireLength = 2, WireFixed32 = 5;

    public static OnnxModel ReadModel(byte[] bytes)
    {
        var model = new OnnxModel();
        var input = new CodedInputStream(bytes);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (Field(tag))
            {
                case 1 when Wire(tag) == WireVarint: model.IrVersion = input.ReadInt64(); break;
                case 2 when Wire(tag) == WireLength: model.ProducerName = input.ReadString(); break;
                case 3 when Wire(tag) == WireLength: model.ProducerVersion = input.ReadString(); break;
                case 7 when Wire(tag) == WireLength: model.Graph = ReadGraph(Sub(input), 0); break;
                case 8 when Wire(tag) == WireLength: model.OpsetImports.Add(ReadOpset(Sub(input))); break;
                default: input.SkipLastField(); break;
            }
        }
        return model;
    }

    /// <summary>Reads a serialized TensorProto (the test_data_set *.pb files).</summary>
    public static OnnxTensor ReadTensor(byte[] bytes) => ReadTensor(new CodedInputStream(bytes));

    private static int Field(uint tag) => (int)(tag >> 3);
    private static int Wire(uint tag) => (int)(tag & 7);

    /// <summary>The bytes of a length-delimited field as a stream of their own (bounded by the bytes present).</summary>
    private static CodedInputStream Sub(CodedInputStream input)
    {
        var bytes = input.ReadBytes();
        if (MemoryMarshal.TryGetArray(bytes.Memory, out var segment) && segment.Array is not null)
            return new CodedInputStream(segment.Array, segment.Offset, segment.Count);
        return new CodedInputStream(bytes.ToByteArray());
    }

    private static (string, long) ReadOpset(CodedInputStream input)
    {
        string domain = string.Empty;
        long version = 0;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (Field(tag))
            {
                case 1 when Wire(tag) == WireLength: domain = input.ReadString(); break;
                case 2 when Wire(tag) == WireVarint: version = input.ReadInt64(); break;
                default: input.SkipLastField(); break;
            }
        }
        return (domain, version);
    }

    private static OnnxGraph ReadGraph(CodedInputStream input, int depth)
    {
        var graph = new OnnxGraph();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (Field(tag))
            {
                case 1 when Wire(tag) == WireLength: graph.Nodes.Add(ReadNode(Sub(input), depth)); break;
                case 2 when Wire(tag) == WireLength: graph.Name = input.ReadString(); break;
                case 5 when Wire(tag) == WireLength: graph.Initializers.Add(ReadTensor(Sub(input))); break;
                case 11 when Wire(tag) == WireLength: graph.Inputs.Add(ReadValueInfo(Sub(input))); break;
                case 12 when Wire(tag) == WireLength: graph.Outputs.Add(ReadValueInfo(Sub(input))); break;
                case 13 when Wire(tag) == WireLength: graph.ValueInfo.Add(ReadValueInfo(Sub(input))); break;
                case 15 when Wire(tag) == WireLength: input.SkipLastField(); graph.SparseInitializerCount++; break;
                default: input.SkipLastField(); break;
            }
        }
        return graph;
    }

    private static OnnxNode ReadNode(CodedInputStream input, int depth)
    {
        var node = new OnnxNode();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (Field(tag))
            {
                case 1 when Wire(tag) == WireLength: node.Inputs.Add(input.ReadString()); break;
                case 2 when Wire(tag) == WireLength: node.Outputs.Add(input.ReadString()); break;
                case 3 when Wire(tag) == WireLength: node.Name = input.ReadString(); break;
                case 4 when Wire(tag) == WireLength: node.OpType = input.ReadString(); break;
                case 5 when Wire(tag) == WireLength: node.Attributes.Add(ReadAttribute(Sub(input), depth)); break;
                case 7 when Wire(tag) == WireLength: node.Domain = input.ReadString(); break;
                default: input.SkipLastField(); break;
            }
        }
        return node;
    }

    private static OnnxAttribute ReadAttribute(CodedInputStream input, int depth)
    {
        var attribute = new OnnxAttribute();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (Field(tag), Wire(tag))
            {
                case (1, WireLength): attribute.Name = input.ReadString(); break;
                case (2, WireFixed32): attribute.F = input.ReadFloat(); break;
                case (3, WireVarint): attribute.I = input.ReadInt64(); break;
                case (4, WireLength): attribute.S = input.ReadBytes().ToByteArray(); break;
                case (5, WireLength): attribute.T = ReadTensor(Sub(input)); break;
                case (6, WireLength): input.SkipLastField(); attribute.HasGraph = true; break;
                case (7, WireFixed32): attribute.Floats.Add(input.ReadFloat()); break;
                case (7, WireLength): ReadPackedFloats(Sub(input), attribute.Floats); break;
                case (8, WireVarint): attribute.Ints.Add(input.ReadInt64()); break;
                case (8, WireLength): ReadPackedVarints(Sub(input), attribute.Ints); break;
                case (20, WireVarint): attribute.Type = input.ReadInt32(); break;
                case (21, WireLength): attribute.RefAttrName = input.ReadString(); break;
                default: input.SkipLastField(); break;
            }
        }
        _ = depth;
        return attribute;
    }

    private static OnnxTensor ReadTensor(CodedInputStream input)
    {
        var tensor = new OnnxTensor();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (Field(tag), Wire(tag))
            {
                case (1, WireVarint): tensor.Dims.Add(input.ReadInt64()); break;
                case (1, WireLength): ReadPackedVarints(Sub(input), tensor.Dims); break;
                case (2, WireVarint): tensor.DataType = (OnnxDataType)input.ReadInt32(); break;
                case (3, WireLength): input.SkipLastField(); tensor.HasSegment = true; break;
                case (4, WireFixed32): tensor.FloatData.Add(input.ReadFloat()); break;
                case (4, WireLength): ReadPackedFloats(Sub(input), tensor.FloatData); break;
                case (5, WireVarint): tensor.IntData.Add(input.ReadInt32()); break;
                case (5, WireLength): ReadPackedInt32s(Sub(input), tensor.IntData); break;
                case (6, WireLength): input.SkipLastField(); tensor.StringCount++; break;
                case (7, WireVarint): tensor.IntData.Add(input.ReadInt64()); break;
                case (7, WireLength): ReadPackedVarints(Sub(input), tensor.IntData); break;
                case (8, WireLength): tensor.Name = input.ReadString(); break;
                case (9, WireLength): tensor.RawData = input.ReadBytes().ToByteArray(); break;
                case (10, WireFixed64): tensor.DoubleData.Add(input.ReadDouble()); break;
                case (10, WireLength): ReadPackedDoubles(Sub(input), tensor.DoubleData); break;
                case (13, WireLength): input.SkipLastField(); tensor.HasExternalData = true; break;
                case (14, WireVarint): if (input.ReadInt32() != 0) tensor.HasExternalData = true; break;
                default: input.SkipLastField(); break;
            }
        }
        return tensor;
    }

    private static OnnxValueInfo ReadValueInfo(CodedInputStream input)
    {
        var info = new OnnxValueInfo();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (Field(tag), Wire(tag))
            {
                case (1, WireLength): info.Name = input.ReadString(); break;
                case (2, WireLength): ReadType(Sub(input), info); break;
                default: input.SkipLastField(); break;
            }
        }
        return info;
    }

    private static void ReadType(CodedInputStream input, OnnxValueInfo info)
    {
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (Field(tag) == 1 && Wire(tag) == WireLength)
            {
                info.HasTensorType = true;
                var tensorType = Sub(input);
                uint inner;
                while ((inner = tensorType.ReadTag()) != 0)
                {
                    switch (Field(inner), Wire(inner))
                    {
                        case (1, WireVarint): info.ElementType = (OnnxDataType)tensorType.ReadInt32(); break;
                        case (2, WireLength): info.HasShape = true; ReadShape(Sub(tensorType), info.Shape); break;
                        default: tensorType.SkipLastField(); break;
                    }
                }
            }
            else
            {
                input.SkipLastField();
            }
        }
    }

    private static void ReadShape(CodedInputStream input, List<long?> shape)
    {
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (Field(tag) == 1 && Wire(tag) == WireLength)
            {
                var dim = Sub(input);
                long? value = null;
                uint inner;
                while ((inner = dim.ReadTag()) != 0)
                {
                    if (Field(inner) == 1 && Wire(inner) == WireVarint) value = dim.ReadInt64();
                    else if (Field(inner) == 2 && Wire(inner) == WireLength) { dim.ReadString(); value = null; }
                    else dim.SkipLastField();
                }
                shape.Add(value);
            }
            else
            {
                input.SkipLastField();
            }
        }
    }

    private static void ReadPackedVarints(CodedInputStream input, List<long> values)
    {
        while (!input.IsAtEnd) values.Add(input.ReadInt64());
    }

    private static void ReadPackedInt32s(CodedInputStream input, List<long> values)
    {
        while (!input.IsAtEnd) values.Add(input.ReadInt32());
    }

    private static void ReadPackedFloats(CodedInputStream input, List<float> values)
    {
        while (!input.IsAtEnd) values.Add(input.ReadFloat());
    }

    private static void ReadPackedDoubles(CodedInputStream input, List<double> values)
    {
        while (!input.IsAtEnd) values.Add(input.ReadDouble());
    }
}
