using System.Runtime.InteropServices;
using EdgeMobileNet.Format.Model;
using Google.Protobuf;

namespace EdgeMobileNet.Import.Onnx;

/// <summary>
/// Writes one of our models as an ONNX ModelProto (IR 7, opset 13): NHWC becomes NCHW (rank-4 activations,
/// convolution weights [O,I,KH,KW], depthwise as a group convolution [C*M,1,KH,KW]), FullyConnected becomes Gemm
/// (transB=1), fused activations become Relu / Clip(0,6). An int8 model is written as QDQ: every int8 activation is
/// a QuantizeLinear/DequantizeLinear pair, int8 weights and int32 biases are DequantizeLinear of integer
/// initializers (per-channel along axis 0), and the graph takes and returns float tensors.
/// </summary>
public static class OnnxExporter
{
    public const int Opset = 13;

    public static byte[] Export(ModelDefinition model) => new Writer(model).Write();

    private sealed class Writer(ModelDefinition model)
    {
        private readonly List<byte[]> _nodes = [];
        private readonly List<byte[]> _initializers = [];
        private readonly Dictionary<int, string> _names = [];
        private readonly HashSet<string> _used = [];
        private int _counter;

        public byte[] Write()
        {
            var inputs = new List<byte[]>();
            var outputs = new List<byte[]>();
            foreach (int i in model.Inputs)
            {
                var t = model.Tensors[i];
                if (t.DataType == DataType.Int8)
                {
                    string floatName = Name(i) + "_float";
                    inputs.Add(ValueInfo(floatName, 1, OnnxShape(t.Shape)));
                    Node("QuantizeLinear", [floatName, .. QuantParams(t.Quantization!, 3)], [Name(i) + "_q"]);
                    Node("DequantizeLinear", [Name(i) + "_q", .. QuantParams(t.Quantization!, 3)], [Name(i)]);
                }
                else if (t.DataType == DataType.Float32)
                {
                    inputs.Add(ValueInfo(Name(i), 1, OnnxShape(t.Shape)));
                }
                else
                {
                    throw new NotSupportedException($"graph input '{t.Name}' of type {t.DataType} cannot be exported");
                }
            }
            foreach (var op in model.Operators) ExportOperator(op);
            foreach (int o in model.Outputs)
            {
                var t = model.Tensors[o];
                if (t.DataType is not (DataType.Float32 or DataType.Int8))
                    throw new NotSupportedException($"graph output '{t.Name}' of type {t.DataType} cannot be exported");
                outputs.Add(ValueInfo(Name(o), 1, OnnxShape(t.Shape)));
            }

            var graph = Message(w =>
            {
                foreach (var n in _nodes) w.Bytes(1, n);
                w.String(2, model.Name.Length > 0 ? model.Name : "edgemobilenet");
                foreach (var init in _initializers) w.Bytes(5, init);
                foreach (var i in inputs) w.Bytes(11, i);
                foreach (var o in outputs) w.Bytes(12, o);
            });
            var opset = Message(w =>
            {
                w.String(1, string.Empty);
                w.Int64(2, Opset);
            });
            return Message(w =>
            {
                w.Int64(1, 7);
                w.String(2, "edgemobilenet");
                w.String(3, "1");
                w.Bytes(7, graph);
                w.Bytes(8, opset);
            });
        }

        // ------------------------------------------------------------ naming and building blocks

        private string Name(int tensor)
        {
            if (_names.TryGetValue(tensor, out var name)) return name;
            string baseName = model.Tensors[tensor].Name.Length > 0 ? model.Tensors[tensor].Name : $"tensor_{tensor}";
            name = _used.Contains(baseName) ? $"{baseName}__{tensor}" : baseName;
            _used.Add(name);
            _names[tensor] = name;
            return name;
        }

        private string Fresh(string hint)
        {
            string name;
            do name = $"{hint}__{_counter++}"; while (!_used.Add(name));
            return name;
        }

        private static long[] OnnxShape(int[] shape) =>
            shape.Length == 4 ? [shape[0], shape[3], shape[1], shape[2]] : shape.Select(d => (long)d).ToArray();

        private void Node(string opType, string[] inputs, string[] outputs, params byte[][] attributes)
        {
            _nodes.Add(Message(w =>
            {
                foreach (var i in inputs) w.String(1, i);
                foreach (var o in outputs) w.String(2, o);
                w.String(3, outputs[0] + "/" + opType);
                w.String(4, opType);
                foreach (var a in attributes) w.Bytes(5, a);
            }));
        }

        private static byte[] IntAttr(string name, long value) => Message(w =>
        {
            w.String(1, name);
            w.Int64(3, value);
            w.Int64(20, 2);
        });

        private static byte[] IntsAttr(string name, params long[] values) => Message(w =>
        {
            w.String(1, name);
            foreach (long v in values) w.Int64(8, v);
            w.Int64(20, 7);
        });

        private string Initializer(string hint, int onnxType, long[] dims, ReadOnlySpan<byte> raw)
        {
            string name = Fresh(hint);
            var bytes = raw.ToArray();
            _initializers.Add(Message(w =>
            {
                foreach (long d in dims) w.Int64(1, d);
                w.Int64(2, onnxType);
                w.String(8, name);
                w.Bytes(9, bytes);
            }));
            return name;
        }

        private string FloatInit(string hint, long[] dims, float[] values) =>
            Initializer(hint, 1, dims, MemoryMarshal.AsBytes(values.AsSpan()));

        private static byte[] ValueInfo(string name, int elemType, long[] shape) => Message(w =>
        {
            w.String(1, name);
            w.Bytes(2, Message(type => type.Bytes(1, Message(tensor =>
            {
                tensor.Int64(1, elemType);
                tensor.Bytes(2, Message(s =>
                {
                    foreach (long d in shape) s.Bytes(1, Message(dim => dim.Int64(1, d)));
                }));
            }))));
        });

        /// <summary>Scale and zero-point initializers of a quantization (scalars for per-tensor, [C] along axis 0 otherwise).</summary>
        private string[] QuantParams(QuantizationInfo q, int zpType)
        {
            bool perChannel = q.Scales.Length > 1;
            long[] dims = perChannel ? [q.Scales.Length] : [];
            string scale = FloatInit("scale", dims, [.. q.Scales]);
            string zp = zpType == 6
                ? Initializer("zero_point", 6, dims, MemoryMarshal.AsBytes(q.ZeroPoints.AsSpan()))
                : Initializer("zero_point", 3, dims, q.ZeroPoints.Select(z => (byte)(sbyte)z).ToArray());
            return [scale, zp];
        }

        private byte[] PerChannelAxis(QuantizationInfo q) => IntAttr("axis", 0);

        /// <summary>The float ONNX value of an activation (for int8, its DequantizeLinear output).</summary>
        private string FloatOf(int tensor) => Name(tensor);

        /// <summary>Writes the float result <paramref name="value"/> into tensor <paramref name="output"/> (quantizing an int8 output).</summary>
        private void Store(string value, int output)
        {
            var t = model.Tensors[output];
            if (t.DataType == DataType.Float32)
            {
                Node("Identity", [value], [Name(output)]);
                return;
            }
            var p = QuantParams(t.Quantization!, 3);
            Node("QuantizeLinear", [value, .. p], [Name(output) + "_q"]);
            Node("DequantizeLinear", [Name(output) + "_q", .. p], [Name(output)]);
        }

        private string Activation(string value, FusedActivation activation)
        {
            switch (activation)
            {
                case FusedActivation.None:
                    return value;
                case FusedActivation.Relu:
                {
                    string output = Fresh(value + "/relu");
                    Node("Relu", [value], [output]);
                    return output;
                }
                default:
                {
                    string output = Fresh(value + "/relu6");
                    Node("Clip", [value, FloatInit("zero", [], [0f]), FloatInit("six", [], [6f])], [output]);
                    return output;
                }
            }
        }

        /// <summary>Float weights of a constant (dequantized for int8 / int32 is not needed: QDQ keeps integers).</summary>
        private string WeightInput(int tensor, long[] onnxDims, int[] order, string hint)
        {
            var t = model.Tensors[tensor];
            var span = t.Data!.Value.Span;
            switch (t.DataType)
            {
                case DataType.Float32:
                {
                    var values = MemoryMarshal.Cast<byte, float>(span);
                    var reordered = new float[values.Length];
                    for (int i = 0; i < order.Length; i++) reordered[i] = values[order[i]];
                    return FloatInit(hint, onnxDims, reordered);
                }
                case DataType.Int8:
                {
                    var reordered = new byte[span.Length];
                    for (int i = 0; i < order.Length; i++) reordered[i] = span[order[i]];
                    string q = Initializer(hint + "_q", 3, onnxDims, reordered);
                    string output = Fresh(hint);
                    var quant = t.Quantization!;
                    if (quant.Scales.Length > 1) Node("DequantizeLinear", [q, .. QuantParams(quant, 3)], [output], PerChannelAxis(quant));
                    else Node("DequantizeLinear", [q, .. QuantParams(quant, 3)], [output]);
                    return output;
                }
                case DataType.Int32:
                {
                    var values = MemoryMarshal.Cast<byte, int>(span);
                    var reordered = new int[values.Length];
                    for (int i = 0; i < order.Length; i++) reordered[i] = values[order[i]];
                    string q = Initializer(hint + "_q", 6, onnxDims, MemoryMarshal.AsBytes(reordered.AsSpan()));
                    string output = Fresh(hint);
                    var quant = t.Quantization ?? throw new NotSupportedException($"int32 tensor '{t.Name}' has no quantization");
                    if (quant.Scales.Length > 1) Node("DequantizeLinear", [q, .. QuantParams(quant, 6)], [output], PerChannelAxis(quant));
                    else Node("DequantizeLinear", [q, .. QuantParams(quant, 6)], [output]);
                    return output;
                }
                default:
                    throw new NotSupportedException($"constant '{t.Name}' of type {t.DataType} cannot be exported");
            }
        }

        private static int[] Identity(int n) => Enumerable.Range(0, n).ToArray();

        /// <summary>The ONNX value of an activation laid out as our NHWC tensor would be read row-major (for reshape / FC).</summary>
        private string RowMajor(int tensor)
        {
            var s = model.Tensors[tensor].Shape;
            string value = FloatOf(tensor);
            if (s.Length != 4 || s[3] == 1 || s[1] * s[2] == 1) return value;
            string output = Fresh(value + "/nhwc");
            Node("Transpose", [value], [output], IntsAttr("perm", 0, 2, 3, 1));
            return output;
        }

        private string Reshaped(string value, int[] ourShape, string hint)
        {
            string shape = Initializer(hint + "/shape", 7, [ourShape.Length], MemoryMarshal.AsBytes(ourShape.Select(d => (long)d).ToArray().AsSpan()));
            string output = Fresh(hint);
            Node("Reshape", [value, shape], [output]);
            return output;
        }

        // ------------------------------------------------------------ operators

        private void ExportOperator(OperatorDefinition op)
        {
            var a = op.Attributes;
            switch (op.Type)
            {
                case OperatorType.Conv2D:
                case OperatorType.DepthwiseConv2D:
                {
                    bool depthwise = op.Type == OperatorType.DepthwiseConv2D;
                    var f = model.Tensors[op.Inputs[1]].Shape; // [O,KH,KW,I] or [1,KH,KW,C*M]
                    int kh = f[1], kw = f[2];
                    int outC = depthwise ? f[3] : f[0];
                    int inC = depthwise ? 1 : f[3];
                    var order = new int[outC * inC * kh * kw];
                    for (int o = 0; o < outC; o++)
                    for (int i = 0; i < inC; i++)
                    for (int y = 0; y < kh; y++)
                    for (int x = 0; x < kw; x++)
                        order[((o * inC + i) * kh + y) * kw + x] = depthwise ? (y * kw + x) * outC + o : ((o * kh + y) * kw + x) * inC + i;
                    string w = WeightInput(op.Inputs[1], [outC, inC, kh, kw], order, op.Name + "/weights");
                    var inputs = new List<string> { FloatOf(op.Inputs[0]), w };
                    if (op.Inputs.Length > 2) inputs.Add(WeightInput(op.Inputs[2], [outC], Identity(outC), op.Name + "/bias"));
                    int group = depthwise ? model.Tensors[op.Inputs[0]].Shape[3] : 1;
                    string y0 = Fresh(op.Name + "/conv");
                    Node("Conv", [.. inputs], [y0],
                        IntsAttr("kernel_shape", kh, kw), IntsAttr("strides", a.StrideH, a.StrideW),
                        IntsAttr("dilations", Math.Max(a.DilationH, 1), Math.Max(a.DilationW, 1)),
                        IntsAttr("pads", a.PadTop, a.PadLeft, a.PadBottom, a.PadRight), IntAttr("group", group));
                    Store(Activation(y0, a.Activation), op.Outputs[0]);
                    break;
                }
                case OperatorType.FullyConnected:
                {
                    var f = model.Tensors[op.Inputs[1]].Shape;
                    int outC = f[0], depth = f[1];
                    var inShape = model.Tensors[op.Inputs[0]].Shape;
                    string x = RowMajor(op.Inputs[0]);
                    if (inShape.Length != 2 || inShape[1] != depth)
                        x = Reshaped(x, [(int)(model.Tensors[op.Inputs[0]].ElementCount / depth), depth], op.Name + "/rows");
                    string w = WeightInput(op.Inputs[1], [outC, depth], Identity(outC * depth), op.Name + "/weights");
                    var inputs = new List<string> { x, w };
                    if (op.Inputs.Length > 2) inputs.Add(WeightInput(op.Inputs[2], [outC], Identity(outC), op.Name + "/bias"));
                    string y0 = Fresh(op.Name + "/gemm");
                    Node("Gemm", [.. inputs], [y0], IntAttr("transB", 1));
                    Store(Activation(y0, a.Activation), op.Outputs[0]);
                    break;
                }
                case OperatorType.Add:
                {
                    string y0 = Fresh(op.Name + "/add");
                    Node("Add", [FloatOf(op.Inputs[0]), FloatOf(op.Inputs[1])], [y0]);
                    Store(Activation(y0, a.Activation), op.Outputs[0]);
                    break;
                }
                case OperatorType.AveragePool2D:
                {
                    string y0 = Fresh(op.Name + "/pool");
                    Node("AveragePool", [FloatOf(op.Inputs[0])], [y0], IntsAttr("kernel_shape", a.FilterH, a.FilterW),
                        IntsAttr("strides", a.StrideH, a.StrideW), IntsAttr("pads", a.PadTop, a.PadLeft, a.PadBottom, a.PadRight));
                    Store(Activation(y0, a.Activation), op.Outputs[0]);
                    break;
                }
                case OperatorType.GlobalAveragePool:
                {
                    string y0 = Fresh(op.Name + "/pool");
                    Node("GlobalAveragePool", [FloatOf(op.Inputs[0])], [y0]);
                    Store(y0, op.Outputs[0]);
                    break;
                }
                case OperatorType.Reshape:
                {
                    var outShape = model.Tensors[op.Outputs[0]].Shape;
                    string y0 = Reshaped(RowMajor(op.Inputs[0]), outShape, op.Name + "/reshape");
                    if (outShape.Length == 4 && outShape[3] != 1 && outShape[1] * outShape[2] != 1)
                    {
                        string t = Fresh(op.Name + "/nchw");
                        Node("Transpose", [y0], [t], IntsAttr("perm", 0, 3, 1, 2));
                        y0 = t;
                    }
                    else if (outShape.Length == 4)
                    {
                        y0 = Reshaped(y0, [outShape[0], outShape[3], outShape[1], outShape[2]], op.Name + "/nchw");
                    }
                    Store(y0, op.Outputs[0]);
                    break;
                }
                case OperatorType.Softmax:
                {
                    var shape = model.Tensors[op.Inputs[0]].Shape;
                    string x = FloatOf(op.Inputs[0]);
                    if (a.Beta != 1f)
                    {
                        string scaled = Fresh(op.Name + "/beta");
                        Node("Mul", [x, FloatInit("beta", [], [a.Beta])], [scaled]);
                        x = scaled;
                    }
                    string y0 = Fresh(op.Name + "/softmax");
                    Node("Softmax", [x], [y0], IntAttr("axis", shape.Length == 4 ? 1 : -1));
                    Store(y0, op.Outputs[0]);
                    break;
                }
                case OperatorType.Quantize:
                case OperatorType.Dequantize:
                    Store(FloatOf(op.Inputs[0]), op.Outputs[0]);
                    break;
                default:
                    throw new NotSupportedException($"operator {op.Type} '{op.Name}' cannot be exported to ONNX");
            }
        }
    }

    // ---------------------------------------------------------------- protobuf writing

    private sealed class ProtoWriter(CodedOutputStream output)
    {
        public void Int64(int field, long value)
        {
            output.WriteTag(field, WireFormat.WireType.Varint);
            output.WriteInt64(value);
        }

        public void String(int field, string value)
        {
            output.WriteTag(field, WireFormat.WireType.LengthDelimited);
            output.WriteString(value);
        }

        public void Bytes(int field, byte[] value)
        {
            output.WriteTag(field, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(UnsafeByteOperations.UnsafeWrap(value));
        }
    }

    private static byte[] Message(Action<ProtoWriter> write)
    {
        using var stream = new MemoryStream();
        using (var output = new CodedOutputStream(stream, leaveOpen: true))
        {
            write(new ProtoWriter(output));
            output.Flush();
        }
        return stream.ToArray();
    }
}
