using System.Runtime.InteropServices;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Kernels;

namespace EdgeMobileNet.Import.Onnx;

/// <summary>One node (or graph-level) problem found while converting; collected, then reported together.</summary>
internal sealed class OnnxNodeException(string message) : Exception(message);

/// <summary>
/// Converts a parsed ONNX graph into a <see cref="ModelDefinition"/>: NCHW activations become NHWC (weights
/// transposed once at import), graph inputs keep their source layout behind a Transpose, rank-4 graph outputs
/// are transposed back; BatchNormalization is folded into the preceding convolution, Relu/Clip(0,6) fused,
/// QDQ groups and QLinearConv/QLinearMatMul become int8 operators (uint8 is shifted to int8 exactly).
/// </summary>
internal sealed class OnnxGraphConverter
{
    private static readonly HashSet<string> SupportedOps =
    [
        "Conv", "BatchNormalization", "Relu", "Clip", "Add", "GlobalAveragePool", "AveragePool", "Flatten", "Reshape",
        "Gemm", "MatMul", "Softmax", "QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "Constant",
        "Identity",
    ];

    /// <summary>Largest activation the importer creates (bytes); larger shapes are reported as unsupported.</summary>
    private const long MaxActivationBytes = 1L << 28;

    private readonly OnnxModel _onnx;
    private readonly OnnxGraph _graph;
    private readonly IReadOnlyDictionary<string, OnnxTensor> _bound;
    private readonly ModelDefinition _model = new();
    private readonly Dictionary<string, Value> _values = [];
    private readonly Dictionary<string, List<int>> _consumers = [];
    private readonly HashSet<string> _graphOutputs = [];
    private readonly bool[] _absorbed;
    private readonly List<string> _errors = [];
    private readonly long _opset;

    public OnnxGraphConverter(OnnxModel onnx, IReadOnlyDictionary<string, OnnxTensor>? boundInputs)
    {
        _onnx = onnx;
        _graph = onnx.Graph ?? throw new OnnxNodeException("the model has no graph");
        _bound = boundInputs ?? new Dictionary<string, OnnxTensor>();
        _absorbed = new bool[_graph.Nodes.Count];
        _opset = onnx.DefaultOpset;
    }

    /// <summary>Converts; returns the model and the list of problems (empty on success).</summary>
    public (ModelDefinition Model, List<string> Errors, List<OnnxDataType> OutputTypes) Convert()
    {
        _model.Name = _graph.Name;
        _model.Producer = $"onnx import ({_onnx.ProducerName} {_onnx.ProducerVersion})".Trim();
        var outputTypes = new List<OnnxDataType>();
        var unsupported = new HashSet<int>();

        for (int i = 0; i < _graph.Nodes.Count; i++)
        {
            var node = _graph.Nodes[i];
            if (node.Domain is not ("" or "ai.onnx") || !SupportedOps.Contains(node.OpType))
            {
                _errors.Add($"node {i} {Q(node.Name)} ({Describe(node)}): unsupported operator");
                unsupported.Add(i);
            }
            foreach (string input in node.Inputs)
            {
                if (input.Length == 0) continue;
                if (!_consumers.TryGetValue(input, out var list)) _consumers[input] = list = [];
                list.Add(i);
            }
        }
        if (_graph.SparseInitializerCount > 0) _errors.Add("graph: sparse initializers are not supported");

        foreach (var output in _graph.Outputs) _graphOutputs.Add(output.Name);
        foreach (var init in _graph.Initializers)
        {
            if (init.DataProblem() is { } problem) _errors.Add($"initializer {Q(init.Name)}: {problem}");
            else _values[init.Name] = new Value(init.Name) { Constant = init, Shape = [.. init.Dims], SourceType = init.DataType };
        }
        foreach (var (name, tensor) in _bound)
        {
            if (tensor.DataProblem() is { } problem) _errors.Add($"bound input {Q(name)}: {problem}");
            else _values[name] = new Value(name) { Constant = tensor, Shape = [.. tensor.Dims], SourceType = tensor.DataType };
        }
        foreach (var input in _graph.Inputs)
        {
            if (_values.ContainsKey(input.Name)) continue; // an initializer doubles as an input (default value)
            try
            {
                AddGraphInput(input);
            }
            catch (OnnxNodeException e)
            {
                _errors.Add($"graph input {Q(input.Name)}: {e.Message}");
            }
        }
        if (_model.Inputs.Count == 0 && _errors.Count == 0) _errors.Add("graph: the model has no runtime input");

        for (int i = 0; i < _graph.Nodes.Count; i++)
        {
            if (_absorbed[i]) continue;
            var node = _graph.Nodes[i];
            try
            {
                // Nodes downstream of a reported problem are skipped: their own support cannot be judged.
                if (unsupported.Contains(i) || node.Inputs.Any(n => n.Length > 0 && _poisoned.Contains(n)))
                {
                    Poison(node);
                    continue;
                }
                ConvertNode(i, node);
            }
            catch (OnnxNodeException e)
            {
                _errors.Add($"node {i} {Q(node.Name)} ({Describe(node)}): {e.Message}");
                Poison(node);
            }
        }

        foreach (var output in _graph.Outputs)
        {
            if (_poisoned.Contains(output.Name)) continue;
            try
            {
                var v = Get(output.Name);
                if (v.DequantOf is not null) v = Materialize(v);
                if (v.Tensor < 0) throw new OnnxNodeException("is a constant, not computed by the graph");
                int t = AsSource(v);
                if (_model.Outputs.Contains(t) || _model.Inputs.Contains(t))
                    t = Emit(OperatorType.Reshape, [t], NewLike(t, output.Name), default, output.Name);
                _model.Outputs.Add(t);
                outputTypes.Add(v.SourceType);
            }
            catch (OnnxNodeException e)
            {
                _errors.Add($"graph output {Q(output.Name)}: {e.Message}");
            }
        }
        return (_model, _errors, outputTypes);
    }

    private readonly HashSet<string> _poisoned = [];

    private void Poison(OnnxNode node)
    {
        foreach (string o in node.Outputs) _poisoned.Add(o);
    }

    // ---------------------------------------------------------------- values

    private sealed class Value(string name)
    {
        public string Name { get; } = name;
        public long[] Shape { get; set; } = [];
        public OnnxDataType SourceType { get; set; } = OnnxDataType.Float;
        public OnnxTensor? Constant { get; set; }
        public QuantConst? QuantConstant { get; set; }
        public int Tensor { get; set; } = -1;
        public bool Nhwc { get; set; }
        public int OtherLayout { get; set; } = -1;
        public Value? DequantOf { get; set; }
        public bool IsConstant => Constant is not null || QuantConstant is not null;
        public bool IsQuantized { get; set; }
    }

    /// <summary>DequantizeLinear of constant integer data: values, per-tensor or per-axis scale and zero point.</summary>
    private sealed record QuantConst(long[] Values, float[] Scales, long[] ZeroPoints, int Axis, OnnxDataType Type, long[] Shape)
    {
        public float[] Dequantize()
        {
            var result = new float[Values.Length];
            int inner = 1;
            for (int d = Axis + 1; d < Shape.Length && Axis >= 0; d++) inner *= (int)Shape[d];
            for (int i = 0; i < result.Length; i++)
            {
                int c = Scales.Length == 1 ? 0 : i / inner % Scales.Length;
                result[i] = (Values[i] - ZeroPoints[c]) * Scales[c];
            }
            return result;
        }
    }

    private Value Get(string name)
    {
        if (name.Length == 0) throw new OnnxNodeException("a required input is empty");
        return _values.TryGetValue(name, out var v) ? v : throw new OnnxNodeException($"input {Q(name)} is not produced by any earlier node, initializer or graph input");
    }

    private void Set(string name, Value v)
    {
        if (_values.ContainsKey(name)) throw new OnnxNodeException($"output {Q(name)} is produced twice");
        _values[name] = v;
    }

    private OnnxTensor ConstInput(OnnxNode node, int index, string what)
    {
        if (index >= node.Inputs.Count || node.Inputs[index].Length == 0) throw new OnnxNodeException($"{what} (input {index}) is missing");
        var v = Get(node.Inputs[index]);
        return v.Constant ?? throw new OnnxNodeException($"{what} {Q(v.Name)} must be a constant (initializer)");
    }

    private OnnxTensor? OptionalConst(OnnxNode node, int index, string what) =>
        index < node.Inputs.Count && node.Inputs[index].Length > 0 ? ConstInput(node, index, what) : null;

    private void AddGraphInput(OnnxValueInfo input)
    {
        if (!input.HasTensorType || !input.HasShape) throw new OnnxNodeException("has no static tensor type and shape");
        var shape = new long[input.Shape.Count];
        for (int d = 0; d < shape.Length; d++)
        {
            if (input.Shape[d] is not { } dim || dim < 1)
                throw new OnnxNodeException($"has a dynamic or invalid dimension {d} (shape [{string.Join(",", input.Shape.Select(s => s?.ToString() ?? "?"))}]); only static shapes are supported");
            shape[d] = dim;
        }
        var v = new Value(input.Name) { Shape = shape, SourceType = input.ElementType };
        int[] dims = Dims(shape);
        switch (input.ElementType)
        {
            case OnnxDataType.Float:
                v.Tensor = AddActivation(input.Name, DataType.Float32, dims, null);
                break;
            case OnnxDataType.UInt8 or OnnxDataType.Int8:
                var (scale, zp) = InputQuantization(input.Name);
                v.Tensor = AddActivation(input.Name, DataType.Int8, dims, QuantizationInfo.PerTensor(scale, zp));
                v.IsQuantized = true;
                break;
            default:
                throw new OnnxNodeException($"has unsupported element type {input.ElementType}");
        }
        _model.Inputs.Add(v.Tensor);
        _values[input.Name] = v;
    }

    /// <summary>Quantization of an integer graph input, from the first DequantizeLinear or QLinear* node reading it.</summary>
    private (float Scale, int ZeroPoint) InputQuantization(string name)
    {
        if (_consumers.TryGetValue(name, out var list))
        {
            foreach (int i in list)
            {
                var node = _graph.Nodes[i];
                int at = node.OpType switch
                {
                    "DequantizeLinear" when node.Inputs[0] == name => 1,
                    "QLinearConv" or "QLinearMatMul" when node.Inputs[0] == name => 1,
                    "QLinearMatMul" when node.Inputs.Count > 3 && node.Inputs[3] == name => 4,
                    _ => -1,
                };
                if (at < 0) continue;
                var (scales, zps, zpType) = ScaleZeroPoint(node, at, at + 1, name);
                if (scales.Length != 1) throw new OnnxNodeException("per-axis quantization of an activation is not supported");
                return (scales[0], ToInt8ZeroPoint(zps[0], zpType));
            }
        }
        throw new OnnxNodeException("is an integer input that no DequantizeLinear, QLinearConv or QLinearMatMul reads (its quantization is unknown)");
    }

    private (float[] Scales, long[] ZeroPoints, OnnxDataType Type) ScaleZeroPoint(OnnxNode node, int scaleIndex, int zpIndex, string? dataName)
    {
        var scaleTensor = ConstInput(node, scaleIndex, "scale");
        var scales = scaleTensor.ToFloats();
        var zpTensor = OptionalConst(node, zpIndex, "zero point");
        var type = zpTensor?.DataType ?? OnnxDataType.UInt8;
        if (dataName is not null && _values.TryGetValue(dataName, out var data) && data.Constant is { } c && zpTensor is null)
            type = c.DataType;
        var zps = zpTensor?.ToInt64s() ?? new long[scales.Length];
        if (scales.Length == 0 || zps.Length != scales.Length) throw new OnnxNodeException($"has {scales.Length} scales and {zps.Length} zero points");
        foreach (float s in scales)
            if (!(s > 0) || !float.IsFinite(s)) throw new OnnxNodeException($"scale {s} must be finite and positive");
        if (type is not (OnnxDataType.UInt8 or OnnxDataType.Int8 or OnnxDataType.Int32))
            throw new OnnxNodeException($"quantized type {type} is not supported (uint8, int8 and int32 bias only)");
        return (scales, zps, type);
    }

    private static int ToInt8ZeroPoint(long zp, OnnxDataType type) => type == OnnxDataType.UInt8 ? (int)zp - 128 : (int)zp;

    // ---------------------------------------------------------------- model building

    private int AddActivation(string name, DataType type, int[] shape, QuantizationInfo? quant)
    {
        long bytes = type.ElementSize();
        foreach (int d in shape) bytes *= d;
        if (bytes > MaxActivationBytes) throw new OnnxNodeException($"tensor {Q(name)} [{string.Join(",", shape)}] is larger than {MaxActivationBytes} bytes");
        if (shape.Length > 6) throw new OnnxNodeException($"tensor {Q(name)} has rank {shape.Length} (at most 6)");
        return _model.AddTensor(new TensorDefinition(name, type, shape, quant));
    }

    private int NewLike(int tensor, string name)
    {
        var t = _model.Tensors[tensor];
        return AddActivation(name, t.DataType, t.Shape, t.Quantization);
    }

    private int ConstF32(string name, int[] shape, float[] values) =>
        _model.AddTensor(new TensorDefinition(name, DataType.Float32, shape, null, MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));

    private int ConstI32(string name, int[] shape, int[] values, QuantizationInfo? quant) =>
        _model.AddTensor(new TensorDefinition(name, DataType.Int32, shape, quant, MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));

    private int ConstI8(string name, int[] shape, sbyte[] values, QuantizationInfo quant) =>
        _model.AddTensor(new TensorDefinition(name, DataType.Int8, shape, quant, MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));

    private int Emit(OperatorType type, int[] inputs, int output, OperatorAttributes attributes, string name)
    {
        _model.Operators.Add(new OperatorDefinition(type, inputs, [output], attributes, name));
        return output;
    }

    private static int[] Dims(long[] shape)
    {
        var dims = new int[shape.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] < 1 || shape[i] > int.MaxValue) throw new OnnxNodeException($"dimension {shape[i]} of [{string.Join(",", shape)}] is not supported (each must be >= 1)");
            dims[i] = (int)shape[i];
        }
        return dims;
    }

    private static long[] ToNhwc(long[] s) => [s[0], s[2], s[3], s[1]];

    /// <summary>The value's tensor in NHWC (rank 4), transposing a source-layout tensor once.</summary>
    private int AsNhwc(Value v)
    {
        if (v.Shape.Length != 4) throw new OnnxNodeException($"{Q(v.Name)} has rank {v.Shape.Length}; this operator needs a 4-D NCHW tensor");
        if (v.Tensor < 0) throw new OnnxNodeException($"{Q(v.Name)} must be computed by the graph, not a constant");
        if (v.Nhwc) return v.Tensor;
        if (v.OtherLayout >= 0) return v.OtherLayout;
        v.OtherLayout = Relayout(v.Tensor, Dims(ToNhwc(v.Shape)), [0, 2, 3, 1], v.Shape, v.Name + "/nhwc");
        return v.OtherLayout;
    }

    /// <summary>The value's tensor in the source (ONNX) layout.</summary>
    private int AsSource(Value v)
    {
        if (v.Tensor < 0) throw new OnnxNodeException($"{Q(v.Name)} must be computed by the graph, not a constant");
        if (!v.Nhwc) return v.Tensor;
        if (v.OtherLayout >= 0) return v.OtherLayout;
        v.OtherLayout = Relayout(v.Tensor, Dims(v.Shape), [0, 3, 1, 2], v.Shape, v.Name + "/nchw");
        return v.OtherLayout;
    }

    private int Relayout(int tensor, int[] outShape, int[] perm, long[] nchw, string name)
    {
        var t = _model.Tensors[tensor];
        int output = AddActivation(name, t.DataType, outShape, t.Quantization);
        // With one channel or a 1x1 plane both layouts have the same memory order: a reshape is enough.
        if (nchw[1] == 1 || nchw[2] * nchw[3] == 1) return Emit(OperatorType.Reshape, [tensor], output, default, name);
        int permTensor = ConstI32(name + "/perm", [4], perm, null);
        return Emit(OperatorType.Transpose, [tensor, permTensor], output, default, name);
    }

    /// <summary>An f32 view of a value that is lazily dequantized: emits the Dequantize operator once.</summary>
    private Value Materialize(Value v)
    {
        if (v.DequantOf is not { } q) return v;
        if (v.Tensor >= 0) return v;
        int src = q.Tensor;
        var t = _model.Tensors[src];
        int output = AddActivation(v.Name, DataType.Float32, t.Shape, null);
        v.Tensor = Emit(OperatorType.Dequantize, [src], output, default, v.Name);
        v.Nhwc = q.Nhwc;
        v.DequantOf = null;
        return v;
    }

    /// <summary>An f32 activation value (dequantizing when needed).</summary>
    private Value Float(string name)
    {
        var v = Get(name);
        if (v.DequantOf is not null) return Materialize(v);
        if (v.IsQuantized) throw new OnnxNodeException($"{Q(name)} is quantized; a float operator cannot read it without DequantizeLinear");
        if (v.IsConstant) throw new OnnxNodeException($"{Q(name)} is a constant; this operator needs a computed tensor");
        if (v.SourceType != OnnxDataType.Float) throw new OnnxNodeException($"{Q(name)} has unsupported type {v.SourceType}");
        return v;
    }

    /// <summary>Float values of a constant (plain or dequantized).</summary>
    private static float[] ConstFloats(Value v, string what)
    {
        if (v.QuantConstant is { } q) return q.Dequantize();
        if (v.Constant is { } c)
        {
            if (c.DataType is not (OnnxDataType.Float or OnnxDataType.Double))
                throw new OnnxNodeException($"{what} {Q(v.Name)} has type {c.DataType}, expected float");
            return c.ToFloats();
        }
        throw new OnnxNodeException($"{what} {Q(v.Name)} must be a constant (initializer)");
    }

    private int SoleConsumer(string value)
    {
        if (_graphOutputs.Contains(value)) return -1;
        if (!_consumers.TryGetValue(value, out var list) || list.Count != 1 || _absorbed[list[0]]) return -1;
        var node = _graph.Nodes[list[0]];
        // Only a well-formed single-output node can be fused (hostile graphs may have none).
        return node.Outputs.Count == 1 && node.Outputs[0].Length > 0 && node.Inputs.Count(i => i == value) == 1 ? list[0] : -1;
    }

    /// <summary>A Relu or Clip node that is the sole consumer of <paramref name="value"/>: its activation and index.</summary>
    private (FusedActivation Activation, int Node) FusableActivation(string value)
    {
        int next = SoleConsumer(value);
        if (next < 0) return (FusedActivation.None, -1);
        var node = _graph.Nodes[next];
        if (node.OpType == "Relu") return (FusedActivation.Relu, next);
        if (node.OpType == "Clip" && ClipActivation(node) is { } a) return (a, next);
        return (FusedActivation.None, -1);
    }

    private FusedActivation? ClipActivation(OnnxNode node)
    {
        float min = float.NegativeInfinity, max = float.PositiveInfinity;
        if (_opset < 11)
        {
            if (node.Attribute("min") is { } a) min = a.F;
            if (node.Attribute("max") is { } b) max = b.F;
        }
        else
        {
            try
            {
                if (OptionalConst(node, 1, "min") is { } lo) min = SingleFloat(lo, "min");
                if (OptionalConst(node, 2, "max") is { } hi) max = SingleFloat(hi, "max");
            }
            catch (OnnxNodeException)
            {
                return null;
            }
        }
        if (min == 0 && max == 6) return FusedActivation.Relu6;
        if (min == 0 && float.IsPositiveInfinity(max)) return FusedActivation.Relu;
        return null;
    }

    private static float SingleFloat(OnnxTensor t, string what)
    {
        if (t.ElementCount != 1) throw new OnnxNodeException($"{what} must be a scalar");
        return t.ToFloats()[0];
    }

    private static string Q(string name) => "'" + (name.Length > 80 ? name[..80] + "..." : name).Replace("\n", "\\n").Replace("\r", "\\r") + "'";

    private static string Describe(OnnxNode node) => node.Domain is "" or "ai.onnx" ? node.OpType : node.Domain + "." + node.OpType;

    private static long IntAttr(OnnxNode node, string name, long fallback) => node.Attribute(name)?.I ?? fallback;

    private static long[] IntsAttr(OnnxNode node, string name, long[] fallback) =>
        node.Attribute(name) is { } a ? [.. a.Ints] : fallback;

    private static string StringAttr(OnnxNode node, string name, string fallback) =>
        node.Attribute(name) is { S: { } s } ? System.Text.Encoding.UTF8.GetString(s) : fallback;

    // ---------------------------------------------------------------- nodes

    private void ConvertNode(int index, OnnxNode node)
    {
        if (node.Outputs.Count == 0 || node.Outputs[0].Length == 0) throw new OnnxNodeException("has no outputs");
        int minInputs = node.OpType switch
        {
            "Constant" => 0,
            "Conv" or "Add" or "Reshape" or "Gemm" or "MatMul" or "QuantizeLinear" or "DequantizeLinear" => 2,
            "BatchNormalization" => 5,
            "QLinearConv" or "QLinearMatMul" => 8,
            _ => 1,
        };
        if (node.Inputs.Count < minInputs) throw new OnnxNodeException($"has {node.Inputs.Count} inputs, needs at least {minInputs}");
        string name = node.Name.Length > 0 ? node.Name : node.Outputs[0];
        switch (node.OpType)
        {
            case "Constant": ConvertConstant(node); break;
            case "Identity": Set(node.Outputs[0], Get(node.Inputs[0])); break;
            case "Conv": ConvertConv(node, name, quantized: null); break;
            case "QLinearConv": ConvertQLinearConv(node, name); break;
            case "BatchNormalization": ConvertStandaloneBatchNorm(node, name); break;
            case "Relu":
            case "Clip": ConvertStandaloneActivation(node, name); break;
            case "Add": ConvertAdd(node, name); break;
            case "GlobalAveragePool": ConvertGlobalAveragePool(node, name); break;
            case "AveragePool": ConvertAveragePool(node, name); break;
            case "Flatten": ConvertFlatten(node, name); break;
            case "Reshape": ConvertReshape(node, name); break;
            case "Gemm": ConvertGemm(node, name); break;
            case "MatMul": ConvertMatMul(node, name); break;
            case "QLinearMatMul": ConvertQLinearMatMul(node, name); break;
            case "Softmax": ConvertSoftmax(node, name); break;
            case "QuantizeLinear": ConvertQuantize(node, name); break;
            case "DequantizeLinear": ConvertDequantize(node, name); break;
            default: throw new OnnxNodeException("unsupported operator");
        }
        _ = index;
    }

    private void ConvertConstant(OnnxNode node)
    {
        var t = node.Attribute("value")?.T ?? throw new OnnxNodeException("only the 'value' tensor form of Constant is supported");
        if (t.DataProblem() is { } p) throw new OnnxNodeException($"value {p}");
        Set(node.Outputs[0], new Value(node.Outputs[0]) { Constant = t, Shape = [.. t.Dims], SourceType = t.DataType });
    }

    private static void CheckSingleOutput(OnnxNode node)
    {
        if (node.Outputs.Count(o => o.Length > 0) != 1) throw new OnnxNodeException("only the single-output form is supported");
    }

    /// <summary>Window attributes shared by Conv and AveragePool: explicit pads, strides, dilations, output size.</summary>
    private static OperatorAttributes Window(OnnxNode node, long[] input, int kh, int kw, out int oh, out int ow)
    {
        var strides = IntsAttr(node, "strides", [1, 1]);
        var dilations = IntsAttr(node, "dilations", [1, 1]);
        var pads = IntsAttr(node, "pads", [0, 0, 0, 0]);
        string autoPad = StringAttr(node, "auto_pad", "NOTSET");
        if (strides.Length != 2 || dilations.Length != 2 || pads.Length != 4)
            throw new OnnxNodeException("strides, dilations and pads must describe two spatial axes");
        foreach (long s in strides) if (s is < 1 or > 65536) throw new OnnxNodeException($"stride {s} is out of range");
        foreach (long d in dilations) if (d is < 1 or > 65536) throw new OnnxNodeException($"dilation {d} is out of range");
        foreach (long p in pads) if (p is < 0 or > 65536) throw new OnnxNodeException($"pad {p} is out of range");
        int[] pad = [(int)pads[0], (int)pads[1], (int)pads[2], (int)pads[3]];
        int[] k = [kh, kw];
        if (autoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            for (int a = 0; a < 2; a++)
            {
                long inSize = input[2 + a];
                long outSize = (inSize + strides[a] - 1) / strides[a];
                long total = Math.Max((outSize - 1) * strides[a] + (k[a] - 1) * dilations[a] + 1 - inSize, 0);
                long small = total / 2;
                pad[a] = (int)(autoPad == "SAME_UPPER" ? small : total - small);
                pad[a + 2] = (int)(total - pad[a]);
            }
        }
        else if (autoPad == "VALID")
        {
            pad = [0, 0, 0, 0];
        }
        else if (autoPad != "NOTSET")
        {
            throw new OnnxNodeException($"auto_pad '{autoPad}' is not supported");
        }
        oh = ConvGeometry.OutputSize((int)input[2], kh, (int)strides[0], (int)dilations[0], pad[0], pad[2]);
        ow = ConvGeometry.OutputSize((int)input[3], kw, (int)strides[1], (int)dilations[1], pad[1], pad[3]);
        if (oh <= 0 || ow <= 0) throw new OnnxNodeException($"window {kh}x{kw} does not fit input [{string.Join(",", input)}]");
        return new OperatorAttributes
        {
            StrideH = (int)strides[0], StrideW = (int)strides[1], DilationH = (int)dilations[0], DilationW = (int)dilations[1],
            PadTop = pad[0], PadLeft = pad[1], PadBottom = pad[2], PadRight = pad[3],
        };
    }

    private sealed record ConvQuant(Value InputQ, QuantConst Weights, QuantConst? Bias, float OutScale, int OutZeroPoint,
        OnnxDataType OutType, string OutputName);

    /// <summary>Conv (fp32 with BatchNormalization folding and activation fusion, or int8 when in a QDQ group).</summary>
    private void ConvertConv(OnnxNode node, string name, ConvQuant? quantized)
    {
        CheckSingleOutput(node);
        var x = Get(node.Inputs[0]);
        var wValue = Get(node.Inputs.Count > 1 ? node.Inputs[1] : "");
        var bValue = node.Inputs.Count > 2 && node.Inputs[2].Length > 0 ? Get(node.Inputs[2]) : null;
        if (x.Shape.Length != 4) throw new OnnxNodeException($"input has rank {x.Shape.Length}; only 2-D convolutions (4-D NCHW input) are supported");
        if (wValue.Shape.Length != 4) throw new OnnxNodeException("weights must be 4-D [M, C/group, kH, kW]");
        long m = wValue.Shape[0], cPerGroup = wValue.Shape[1], kh = wValue.Shape[2], kw = wValue.Shape[3];
        long c = x.Shape[1];
        long group = IntAttr(node, "group", 1);
        var kernelShape = IntsAttr(node, "kernel_shape", [kh, kw]);
        if (kernelShape.Length != 2 || kernelShape[0] != kh || kernelShape[1] != kw)
            throw new OnnxNodeException($"kernel_shape [{string.Join(",", kernelShape)}] does not match weights [{string.Join(",", wValue.Shape)}]");
        bool depthwise;
        if (group == 1 && cPerGroup == c) depthwise = false;
        else if (group == c && cPerGroup == 1 && m % c == 0 && c > 1) depthwise = true;
        else throw new OnnxNodeException($"group {group} with {c} input channels and weights [{string.Join(",", wValue.Shape)}] is not supported (only group 1 and depthwise group == channels)");
        var attributes = Window(node, x.Shape, (int)kh, (int)kw, out int oh, out int ow);
        if (depthwise) attributes.DepthMultiplier = (int)(m / c);

        // Quantized path: QLinearConv, or DQ(x), DQ(w) -> Conv [-> Relu/Clip] -> Q.
        string outputName = node.Outputs[0];
        var activation = FusedActivation.None;
        if (quantized is null && x.DequantOf is { } xq && wValue.QuantConstant is { } wq &&
            (bValue is null || bValue.QuantConstant is not null))
        {
            var (act, actNode) = FusableActivation(outputName);
            string afterAct = actNode >= 0 ? _graph.Nodes[actNode].Outputs[0] : outputName;
            int qNode = SoleConsumer(afterAct);
            if (qNode >= 0 && _graph.Nodes[qNode].OpType == "QuantizeLinear" && QuantizeParams(_graph.Nodes[qNode]) is { } qp)
            {
                if (actNode >= 0) _absorbed[actNode] = true;
                _absorbed[qNode] = true;
                activation = act;
                quantized = new ConvQuant(xq, wq, bValue?.QuantConstant, qp.Scale, qp.ZeroPoint, qp.Type, _graph.Nodes[qNode].Outputs[0]);
            }
        }

        if (quantized is not null)
        {
            EmitQuantizedConv(quantized, depthwise, (int)m, (int)cPerGroup, (int)kh, (int)kw, oh, ow, attributes, activation, name);
            return;
        }

        var input = Float(node.Inputs[0]);
        float[] w = ConstFloats(wValue, "weights");
        float[] bias = bValue is null ? new float[m] : ConstFloats(bValue, "bias");
        if (bias.Length != m) throw new OnnxNodeException($"bias has {bias.Length} values for {m} output channels");

        // Fold a BatchNormalization that is the sole consumer.
        int next = SoleConsumer(outputName);
        if (next >= 0 && _graph.Nodes[next].OpType == "BatchNormalization" && IsInferenceBatchNorm(_graph.Nodes[next]))
        {
            var (scale, shift) = BatchNormFactors(_graph.Nodes[next], (int)m);
            int perChannel = w.Length / (int)m;
            for (int i = 0; i < w.Length; i++) w[i] *= scale[i / perChannel];
            for (int o = 0; o < m; o++) bias[o] = bias[o] * scale[o] + shift[o];
            _absorbed[next] = true;
            outputName = _graph.Nodes[next].Outputs[0];
        }
        var (fused, fusedNode) = FusableActivation(outputName);
        if (fusedNode >= 0)
        {
            _absorbed[fusedNode] = true;
            outputName = _graph.Nodes[fusedNode].Outputs[0];
        }
        attributes.Activation = fused;

        int filter = depthwise
            ? ConstF32(name + "/depthwise_weights", [1, (int)kh, (int)kw, (int)m], DepthwiseFilter(w, (int)m, (int)kh, (int)kw))
            : ConstF32(name + "/weights", [(int)m, (int)kh, (int)kw, (int)c], ConvFilter(w, (int)m, (int)c, (int)kh, (int)kw));
        int biasTensor = ConstF32(name + "/bias", [(int)m], bias);
        int inputTensor = AsNhwc(input);
        int output = AddActivation(outputName, DataType.Float32, [(int)x.Shape[0], oh, ow, (int)m], null);
        Emit(depthwise ? OperatorType.DepthwiseConv2D : OperatorType.Conv2D, [inputTensor, filter, biasTensor], output, attributes, name);
        Set(outputName, new Value(outputName) { Shape = [x.Shape[0], m, oh, ow], Tensor = output, Nhwc = true });
    }

    private static T[] ConvFilter<T>(T[] w, int m, int c, int kh, int kw)
    {
        var f = new T[w.Length];
        for (int o = 0; o < m; o++)
        for (int i = 0; i < c; i++)
        for (int y = 0; y < kh; y++)
        for (int x = 0; x < kw; x++)
            f[((o * kh + y) * kw + x) * c + i] = w[((o * c + i) * kh + y) * kw + x];
        return f;
    }

    private static T[] DepthwiseFilter<T>(T[] w, int m, int kh, int kw)
    {
        var f = new T[w.Length];
        for (int o = 0; o < m; o++)
        for (int y = 0; y < kh; y++)
        for (int x = 0; x < kw; x++)
            f[(y * kw + x) * m + o] = w[(o * kh + y) * kw + x];
        return f;
    }

    private void EmitQuantizedConv(ConvQuant q, bool depthwise, int m, int cPerGroup, int kh, int kw, int oh, int ow,
        OperatorAttributes attributes, FusedActivation activation, string name)
    {
        var w = q.Weights;
        if (w.Scales.Length != 1 && (w.Axis != 0 || w.Scales.Length != m))
            throw new OnnxNodeException("per-channel weight quantization must be along axis 0 (output channels)");
        if (w.Type is not (OnnxDataType.Int8 or OnnxDataType.UInt8)) throw new OnnxNodeException($"weights of type {w.Type} are not supported");
        var raw = new sbyte[w.Values.Length];
        int perChannel = raw.Length / m;
        for (int i = 0; i < raw.Length; i++)
        {
            int ch = w.Scales.Length == 1 ? 0 : i / perChannel;
            // Our kernels take symmetric weights: w - zp is exact whenever it fits int8 (always for zp 0, or 128 for uint8).
            long v = w.Values[i] - w.ZeroPoints[ch];
            if (v is < -128 or > 127)
                throw new OnnxNodeException($"asymmetric weights (zero point {w.ZeroPoints[ch]}) whose offsets do not fit int8 are not supported");
            raw[i] = (sbyte)v;
        }
        var xTensor = q.InputQ;
        if (xTensor.Tensor < 0 || _model.Tensors[xTensor.Tensor].DataType != DataType.Int8) throw new OnnxNodeException("input must be a quantized activation");
        var inputQuant = _model.Tensors[xTensor.Tensor].Quantization!;
        int c = (int)xTensor.Shape[1];
        sbyte[] filterValues = depthwise ? DepthwiseFilter(raw, m, kh, kw) : ConvFilter(raw, m, c, kh, kw);
        var filterQuant = new QuantizationInfo(w.Scales.Length == 1 ? [w.Scales[0]] : [.. w.Scales], new int[w.Scales.Length],
            w.Scales.Length == 1 ? -1 : depthwise ? 3 : 0);
        int filter = ConstI8(name + "/weights", depthwise ? [1, kh, kw, m] : [m, kh, kw, c], filterValues, filterQuant);
        int[] inputs;
        var biasScales = w.Scales.Select(s => inputQuant.Scale * s).ToArray();
        if (q.Bias is { } b)
        {
            if (b.Type != OnnxDataType.Int32 || b.Values.Length != m) throw new OnnxNodeException($"bias must be int32 [{m}]");
            var bias = new int[m];
            for (int o = 0; o < m; o++)
            {
                float bScale = b.Scales[b.Scales.Length == 1 ? 0 : o];
                double expected = (double)inputQuant.Scale * w.Scales[w.Scales.Length == 1 ? 0 : o];
                long value = b.Values[o] - b.ZeroPoints[b.Scales.Length == 1 ? 0 : o];
                // A bias scale that differs from inputScale*weightScale is rescaled (it is exact when they agree).
                if (Math.Abs(bScale - expected) > 1e-6 * expected)
                    value = (long)Math.Round(value * (double)bScale / expected, MidpointRounding.AwayFromZero);
                bias[o] = (int)Math.Clamp(value, int.MinValue, int.MaxValue);
            }
            inputs = [AsNhwc(xTensor), filter, ConstI32(name + "/bias", [m], bias, new QuantizationInfo(biasScales, new int[biasScales.Length], biasScales.Length == 1 ? -1 : 0))];
        }
        else
        {
            inputs = [AsNhwc(xTensor), filter];
        }
        attributes.Activation = activation;
        int output = AddActivation(q.OutputName, DataType.Int8, [(int)xTensor.Shape[0], oh, ow, m], QuantizationInfo.PerTensor(q.OutScale, q.OutZeroPoint));
        Emit(depthwise ? OperatorType.DepthwiseConv2D : OperatorType.Conv2D, inputs, output, attributes, name);
        Set(q.OutputName, new Value(q.OutputName) { Shape = [xTensor.Shape[0], m, oh, ow], Tensor = output, Nhwc = true, IsQuantized = true, SourceType = q.OutType });
        _ = cPerGroup;
    }

    private (float Scale, int ZeroPoint, OnnxDataType Type)? QuantizeParams(OnnxNode q)
    {
        try
        {
            var (scales, zps, type) = ScaleZeroPoint(q, 1, 2, null);
            if (scales.Length != 1 || type == OnnxDataType.Int32) return null;
            if (q.Attribute("output_dtype") is not null) return null;
            return (scales[0], ToInt8ZeroPoint(zps[0], type), type);
        }
        catch (OnnxNodeException)
        {
            return null;
        }
    }

    private void ConvertQLinearConv(OnnxNode node, string name)
    {
        if (node.Inputs.Count < 8) throw new OnnxNodeException("needs at least 8 inputs");
        var x = Get(node.Inputs[0]);
        if (!x.IsQuantized) throw new OnnxNodeException("input must be a quantized (uint8/int8) tensor");
        var (xs, xz, xt) = ScaleZeroPoint(node, 1, 2, node.Inputs[0]);
        CheckSameQuant(x, xs, xz, xt);
        var wq = QuantConstFrom(node, 3, 4, 5, axis: 0);
        var (ys, yz, yt) = ScaleZeroPoint(node, 6, 7, null);
        if (ys.Length != 1) throw new OnnxNodeException("per-axis output quantization is not supported");
        QuantConst? bias = null;
        if (node.Inputs.Count > 8 && node.Inputs[8].Length > 0)
        {
            var b = ConstInput(node, 8, "bias");
            if (b.DataType != OnnxDataType.Int32) throw new OnnxNodeException("bias must be int32");
            var xScale = xs[0];
            bias = new QuantConst(b.ToInt64s(), wq.Scales.Select(s => s * xScale).ToArray(), new long[wq.Scales.Length], wq.Scales.Length == 1 ? -1 : 0, OnnxDataType.Int32, [.. b.Dims]);
        }
        // Reuse the float Conv path for geometry, with the quantized description supplied.
        var shadow = new Value(x.Name) { Shape = x.Shape, Tensor = x.Tensor, Nhwc = x.Nhwc, IsQuantized = true };
        var wValue = new Value(node.Inputs[3]) { QuantConstant = wq, Shape = wq.Shape };
        var convNode = new OnnxNode { Name = node.Name, OpType = "Conv" };
        convNode.Inputs.AddRange([node.Inputs[0], node.Inputs[3]]);
        convNode.Outputs.Add(node.Outputs[0]);
        convNode.Attributes.AddRange(node.Attributes);
        _values[ShadowKey(node.Inputs[3])] = wValue;
        convNode.Inputs[1] = ShadowKey(node.Inputs[3]);
        ConvertConv(convNode, name, new ConvQuant(x, wq, bias, ys[0], ToInt8ZeroPoint(yz[0], yt), yt, node.Outputs[0]));
        _ = shadow;
    }

    private static string ShadowKey(string name) => "\u0001qconst:" + name;

    private static void CheckSameQuant(Value x, float[] scales, long[] zps, OnnxDataType type)
    {
        _ = x; _ = scales; _ = zps; _ = type;
    }

    private QuantConst QuantConstFrom(OnnxNode node, int dataIndex, int scaleIndex, int zpIndex, int axis)
    {
        var data = ConstInput(node, dataIndex, "quantized data");
        if (!data.IsInteger) throw new OnnxNodeException($"quantized data has type {data.DataType}");
        var (scales, zps, _) = ScaleZeroPoint(node, scaleIndex, zpIndex, node.Inputs[dataIndex]);
        long[] shape = [.. data.Dims];
        if (scales.Length > 1)
        {
            if (axis < 0) axis += shape.Length;
            if (axis < 0 || axis >= shape.Length || shape[axis] != scales.Length)
                throw new OnnxNodeException($"{scales.Length} scales do not match axis {axis} of [{string.Join(",", shape)}]");
        }
        return new QuantConst(data.ToInt64s(), scales, zps, scales.Length > 1 ? axis : -1, data.DataType, shape);
    }

    private bool IsInferenceBatchNorm(OnnxNode bn) =>
        IntAttr(bn, "training_mode", 0) == 0 && bn.Outputs.Count(o => o.Length > 0) == 1 && bn.Inputs.Count == 5;

    private (float[] Scale, float[] Shift) BatchNormFactors(OnnxNode bn, int channels)
    {
        float epsilon = bn.Attribute("epsilon")?.F ?? 1e-5f;
        var gamma = ConstFloats(Get(bn.Inputs[1]), "scale");
        var beta = ConstFloats(Get(bn.Inputs[2]), "B");
        var mean = ConstFloats(Get(bn.Inputs[3]), "mean");
        var variance = ConstFloats(Get(bn.Inputs[4]), "var");
        if (gamma.Length != channels || beta.Length != channels || mean.Length != channels || variance.Length != channels)
            throw new OnnxNodeException($"batch normalization parameters must all have {channels} values");
        var scale = new float[channels];
        var shift = new float[channels];
        for (int i = 0; i < channels; i++)
        {
            scale[i] = (float)(gamma[i] / Math.Sqrt((double)variance[i] + epsilon));
            shift[i] = beta[i] - mean[i] * scale[i];
        }
        return (scale, shift);
    }

    /// <summary>A BatchNormalization not after a Conv: a 1x1 depthwise convolution with the folded scale and shift.</summary>
    private void ConvertStandaloneBatchNorm(OnnxNode node, string name)
    {
        if (!IsInferenceBatchNorm(node)) throw new OnnxNodeException("only inference mode (training_mode 0, one output) is supported");
        var x = Float(node.Inputs[0]);
        if (x.Shape.Length != 4) throw new OnnxNodeException($"input has rank {x.Shape.Length}; only 4-D NCHW is supported");
        int c = (int)x.Shape[1];
        var (scale, shift) = BatchNormFactors(node, c);
        string outputName = node.Outputs[0];
        var (fused, fusedNode) = FusableActivation(outputName);
        if (fusedNode >= 0)
        {
            _absorbed[fusedNode] = true;
            outputName = _graph.Nodes[fusedNode].Outputs[0];
        }
        var attributes = OperatorAttributes.Convolution(1, 0, 0, 0, 0, fused, 1);
        int filter = ConstF32(name + "/scale", [1, 1, 1, c], scale);
        int bias = ConstF32(name + "/shift", [c], shift);
        int input = AsNhwc(x);
        int output = AddActivation(outputName, DataType.Float32, Dims(ToNhwc(x.Shape)), null);
        Emit(OperatorType.DepthwiseConv2D, [input, filter, bias], output, attributes, name);
        Set(outputName, new Value(outputName) { Shape = x.Shape, Tensor = output, Nhwc = true });
    }

    /// <summary>Relu or Clip(0, 6) with no producer to fuse into: an Add of zeros with the fused activation (f32).</summary>
    private void ConvertStandaloneActivation(OnnxNode node, string name)
    {
        FusedActivation activation = node.OpType == "Relu" ? FusedActivation.Relu
            : ClipActivation(node) ?? throw new OnnxNodeException("only Clip(min 0, max 6) (ReLU6) and Clip(min 0) (ReLU) are supported");
        var x = Float(node.Inputs[0]);
        int input = x.Tensor;
        var shape = _model.Tensors[input].Shape;
        long count = _model.Tensors[input].ElementCount;
        int zeros = ConstF32(name + "/zeros", shape, new float[count]);
        int output = AddActivation(node.Outputs[0], DataType.Float32, shape, null);
        Emit(OperatorType.Add, [input, zeros], output, new OperatorAttributes { Activation = activation }, name);
        Set(node.Outputs[0], new Value(node.Outputs[0]) { Shape = x.Shape, Tensor = output, Nhwc = x.Nhwc });
    }

    private void ConvertAdd(OnnxNode node, string name)
    {
        CheckSingleOutput(node);
        var a = Get(node.Inputs[0]);
        var b = Get(node.Inputs[1]);
        if (!a.Shape.SequenceEqual(b.Shape))
            throw new OnnxNodeException($"broadcasting [{string.Join(",", a.Shape)}] + [{string.Join(",", b.Shape)}] is not supported (equal shapes only)");
        string outputName = node.Outputs[0];

        // int8: DQ(a), DQ(b) -> Add [-> Relu/Clip] -> Q.
        if (a.DequantOf is { } aq && b.DequantOf is { } bq)
        {
            var (act, actNode) = FusableActivation(outputName);
            string after = actNode >= 0 ? _graph.Nodes[actNode].Outputs[0] : outputName;
            int qNode = SoleConsumer(after);
            if (qNode >= 0 && _graph.Nodes[qNode].OpType == "QuantizeLinear" && QuantizeParams(_graph.Nodes[qNode]) is { } qp)
            {
                if (actNode >= 0) _absorbed[actNode] = true;
                _absorbed[qNode] = true;
                bool nhwc = aq.Nhwc && bq.Nhwc && a.Shape.Length == 4;
                int ta = nhwc ? aq.Tensor : AsSource(aq), tb = nhwc ? bq.Tensor : AsSource(bq);
                string qName = _graph.Nodes[qNode].Outputs[0];
                int qOut = AddActivation(qName, DataType.Int8, _model.Tensors[ta].Shape, QuantizationInfo.PerTensor(qp.Scale, qp.ZeroPoint));
                Emit(OperatorType.Add, [ta, tb], qOut, new OperatorAttributes { Activation = act }, name);
                Set(qName, new Value(qName) { Shape = a.Shape, Tensor = qOut, Nhwc = nhwc, IsQuantized = true, SourceType = qp.Type });
                return;
            }
        }

        var (fused, fusedNode) = FusableActivation(outputName);
        if (fusedNode >= 0)
        {
            _absorbed[fusedNode] = true;
            outputName = _graph.Nodes[fusedNode].Outputs[0];
        }
        int ia, ib;
        bool outNhwc;
        if (a.IsConstant || b.IsConstant)
        {
            if (a.IsConstant && b.IsConstant) throw new OnnxNodeException("both inputs are constants");
            var act = Float(a.IsConstant ? b.Name : a.Name);
            var constant = a.IsConstant ? a : b;
            float[] values = ConstFloats(constant, "addend");
            outNhwc = act.Nhwc;
            int[] shape = _model.Tensors[act.Tensor].Shape;
            if (act.Nhwc) values = NchwToNhwc(values, act.Shape);
            int c = ConstF32(name + "/constant", shape, values);
            (ia, ib) = a.IsConstant ? (c, act.Tensor) : (act.Tensor, c);
        }
        else
        {
            var fa = Float(a.Name);
            var fb = Float(b.Name);
            outNhwc = fa.Nhwc && fb.Nhwc;
            (ia, ib) = outNhwc ? (fa.Tensor, fb.Tensor) : (AsSource(fa), AsSource(fb));
        }
        int output = AddActivation(outputName, DataType.Float32, _model.Tensors[ia].Shape, null);
        Emit(OperatorType.Add, [ia, ib], output, new OperatorAttributes { Activation = fused }, name);
        Set(outputName, new Value(outputName) { Shape = a.Shape, Tensor = output, Nhwc = outNhwc });
    }

    private static float[] NchwToNhwc(float[] values, long[] s)
    {
        int n = (int)s[0], c = (int)s[1], h = (int)s[2], w = (int)s[3];
        var result = new float[values.Length];
        for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            result[((b * h + y) * w + x) * c + ch] = values[((b * c + ch) * h + y) * w + x];
        return result;
    }

    /// <summary>For pass-through int8 operators: (quantized input, Q node index and params) when in a QDQ group.</summary>
    private (Value Input, int QNode, (float Scale, int ZeroPoint, OnnxDataType Type) Params)? QuantizedGroup(Value x, string outputName)
    {
        if (x.DequantOf is not { } xq) return null;
        int qNode = SoleConsumer(outputName);
        if (qNode < 0 || _graph.Nodes[qNode].OpType != "QuantizeLinear" || QuantizeParams(_graph.Nodes[qNode]) is not { } qp) return null;
        return (xq, qNode, qp);
    }

    private void ConvertGlobalAveragePool(OnnxNode node, string name)
    {
        var x = Get(node.Inputs[0]);
        if (x.Shape.Length != 4) throw new OnnxNodeException($"input has rank {x.Shape.Length}; only 4-D NCHW is supported");
        EmitPool(OperatorType.GlobalAveragePool, node, name, x, [x.Shape[0], x.Shape[1], 1, 1], default, requantizes: true);
    }

    /// <summary>
    /// Emits a pooling operator with NCHW output <paramref name="outShape"/>: int8 when QuantizeLinear/DequantizeLinear
    /// surround it (and, unless the operator <paramref name="requantizes"/>, input and output share their quantization),
    /// fp32 otherwise.
    /// </summary>
    private void EmitPool(OperatorType type, OnnxNode node, string name, Value x, long[] outShape, OperatorAttributes attributes,
        bool requantizes)
    {
        int[] nhwc = [(int)outShape[0], (int)outShape[2], (int)outShape[3], (int)outShape[1]];
        if (QuantizedGroup(x, node.Outputs[0]) is { } g)
        {
            var inQuant = _model.Tensors[g.Input.Tensor].Quantization!;
            if (requantizes || (inQuant.Scale == g.Params.Scale && inQuant.ZeroPoint == g.Params.ZeroPoint))
            {
                _absorbed[g.QNode] = true;
                string qName = _graph.Nodes[g.QNode].Outputs[0];
                int qOut = AddActivation(qName, DataType.Int8, nhwc, QuantizationInfo.PerTensor(g.Params.Scale, g.Params.ZeroPoint));
                Emit(type, [AsNhwc(g.Input)], qOut, attributes, name);
                Set(qName, new Value(qName) { Shape = outShape, Tensor = qOut, Nhwc = true, IsQuantized = true, SourceType = g.Params.Type });
                return;
            }
        }
        var f = Float(x.Name);
        int output = AddActivation(node.Outputs[0], DataType.Float32, nhwc, null);
        Emit(type, [AsNhwc(f)], output, attributes, name);
        Set(node.Outputs[0], new Value(node.Outputs[0]) { Shape = outShape, Tensor = output, Nhwc = true });
    }

    private void ConvertAveragePool(OnnxNode node, string name)
    {
        CheckSingleOutput(node);
        var x = Get(node.Inputs[0]);
        if (x.Shape.Length != 4) throw new OnnxNodeException($"input has rank {x.Shape.Length}; only 2-D pooling (4-D NCHW input) is supported");
        var kernel = IntsAttr(node, "kernel_shape", []);
        if (kernel.Length != 2 || kernel[0] < 1 || kernel[1] < 1 || kernel[0] > 65536 || kernel[1] > 65536)
            throw new OnnxNodeException("kernel_shape must give two positive sizes");
        if (IntsAttr(node, "dilations", [1, 1]).Any(d => d != 1)) throw new OnnxNodeException("dilations are not supported for AveragePool");
        var a = Window(node, x.Shape, (int)kernel[0], (int)kernel[1], out int oh, out int ow);
        bool padded = a.PadTop + a.PadLeft + a.PadBottom + a.PadRight > 0;
        if (IntAttr(node, "count_include_pad", 0) != 0 && padded)
            throw new OnnxNodeException("count_include_pad=1 with padding is not supported (padding is excluded from the average)");
        if (IntAttr(node, "ceil_mode", 0) != 0)
        {
            int ch = CeilOutput((int)x.Shape[2], (int)kernel[0], a.StrideH, a.PadTop, a.PadBottom);
            int cw = CeilOutput((int)x.Shape[3], (int)kernel[1], a.StrideW, a.PadLeft, a.PadRight);
            if (ch != oh || cw != ow) throw new OnnxNodeException("ceil_mode=1 that changes the output size is not supported");
        }
        if (a.PadTop >= kernel[0] || a.PadBottom >= kernel[0] || a.PadLeft >= kernel[1] || a.PadRight >= kernel[1])
            throw new OnnxNodeException("padding must be smaller than the pooling window");
        a.FilterH = (int)kernel[0];
        a.FilterW = (int)kernel[1];
        a.DilationH = a.DilationW = 0;
        // int8 AveragePool2D keeps its input's quantization (TFLite), so only a Q/DQ pair that does not rescale maps to it.
        EmitPool(OperatorType.AveragePool2D, node, name, x, [x.Shape[0], x.Shape[1], oh, ow], a, requantizes: false);
    }

    private static int CeilOutput(int input, int kernel, int stride, int padBefore, int padAfter)
    {
        int span = input + padBefore + padAfter - kernel;
        if (span < 0) return 0;
        int o = (span + stride - 1) / stride + 1;
        if ((o - 1) * stride >= input + padBefore) o--; // the last window must start inside the input or left padding
        return o;
    }

    /// <summary>Reshape of a value in source layout; int8 (lazily dequantized) values stay int8.</summary>
    private void EmitReshape(Value x, long[] newShape, string outputName, string name)
    {
        long count = 1;
        foreach (long d in newShape) count *= d;
        long inCount = 1;
        foreach (long d in x.Shape) inCount *= d;
        if (count != inCount) throw new OnnxNodeException($"cannot reshape [{string.Join(",", x.Shape)}] to [{string.Join(",", newShape)}]");
        int[] dims = Dims(newShape);
        if (x.DequantOf is { } xq)
        {
            var quant = _model.Tensors[xq.Tensor].Quantization;
            int qOut = AddActivation(outputName + "/quantized", DataType.Int8, dims, quant);
            Emit(OperatorType.Reshape, [AsSource(xq)], qOut, default, name);
            var inner = new Value(outputName + "/quantized") { Shape = newShape, Tensor = qOut, IsQuantized = true, SourceType = xq.SourceType };
            Set(outputName, new Value(outputName) { Shape = newShape, DequantOf = inner });
            return;
        }
        if (x.IsQuantized)
        {
            int qOut = AddActivation(outputName, DataType.Int8, dims, _model.Tensors[x.Tensor].Quantization);
            Emit(OperatorType.Reshape, [AsSource(x)], qOut, default, name);
            Set(outputName, new Value(outputName) { Shape = newShape, Tensor = qOut, IsQuantized = true, SourceType = x.SourceType });
            return;
        }
        var f = Float(x.Name);
        int output = AddActivation(outputName, DataType.Float32, dims, null);
        Emit(OperatorType.Reshape, [AsSource(f)], output, default, name);
        Set(outputName, new Value(outputName) { Shape = newShape, Tensor = output });
    }

    private void ConvertFlatten(OnnxNode node, string name)
    {
        var x = Get(node.Inputs[0]);
        long axis = IntAttr(node, "axis", 1);
        if (axis < 0) axis += x.Shape.Length;
        if (axis < 0 || axis > x.Shape.Length) throw new OnnxNodeException($"axis {axis} is out of range for rank {x.Shape.Length}");
        long outer = 1, inner = 1;
        for (int d = 0; d < x.Shape.Length; d++)
        {
            if (d < axis) outer *= x.Shape[d];
            else inner *= x.Shape[d];
        }
        EmitReshape(x, [outer, inner], node.Outputs[0], name);
    }

    private void ConvertReshape(OnnxNode node, string name)
    {
        var x = Get(node.Inputs[0]);
        var shapeTensor = ConstInput(node, 1, "shape");
        if (!shapeTensor.IsInteger) throw new OnnxNodeException("shape must be int64");
        var requested = shapeTensor.ToInt64s();
        bool allowZero = IntAttr(node, "allowzero", 0) != 0;
        var shape = new long[requested.Length];
        int inferred = -1;
        long known = 1;
        long total = 1;
        foreach (long d in x.Shape) total *= d;
        for (int i = 0; i < shape.Length; i++)
        {
            long d = requested[i];
            if (d == 0 && !allowZero)
            {
                if (i >= x.Shape.Length) throw new OnnxNodeException($"shape entry {i} is 0 but the input has rank {x.Shape.Length}");
                d = x.Shape[i];
            }
            if (d == -1)
            {
                if (inferred >= 0) throw new OnnxNodeException("shape has more than one -1");
                inferred = i;
                continue;
            }
            if (d < 1) throw new OnnxNodeException($"shape entry {d} is not supported (zero-size tensors)");
            shape[i] = d;
            known *= d;
            if (known > int.MaxValue) throw new OnnxNodeException("shape is too large");
        }
        if (inferred >= 0)
        {
            if (known == 0 || total % known != 0) throw new OnnxNodeException($"cannot infer -1 reshaping [{string.Join(",", x.Shape)}] to [{string.Join(",", requested)}]");
            shape[inferred] = total / known;
        }
        EmitReshape(x, shape, node.Outputs[0], name);
    }

    private void ConvertGemm(OnnxNode node, string name)
    {
        CheckSingleOutput(node);
        if (IntAttr(node, "transA", 0) != 0) throw new OnnxNodeException("transA=1 is not supported");
        bool transB = IntAttr(node, "transB", 0) != 0;
        float alpha = node.Attribute("alpha")?.F ?? 1f;
        float beta = node.Attribute("beta")?.F ?? 1f;
        var a = Get(node.Inputs[0]);
        var b = Get(node.Inputs.Count > 1 ? node.Inputs[1] : "");
        var c = node.Inputs.Count > 2 && node.Inputs[2].Length > 0 ? Get(node.Inputs[2]) : null;
        if (a.Shape.Length != 2 || b.Shape.Length != 2) throw new OnnxNodeException("A and B must be 2-D");
        long k = a.Shape[1];
        long n = transB ? b.Shape[0] : b.Shape[1];
        if ((transB ? b.Shape[1] : b.Shape[0]) != k) throw new OnnxNodeException($"B [{string.Join(",", b.Shape)}] does not match A [{string.Join(",", a.Shape)}]");
        EmitFullyConnected(node, name, a, b, transB, alpha, c, beta, a.Shape[0], k, n, node.Outputs[0], [a.Shape[0], n]);
    }

    private void ConvertMatMul(OnnxNode node, string name)
    {
        var a = Get(node.Inputs[0]);
        var b = Get(node.Inputs[1]);
        if (a.Shape.Length < 2) throw new OnnxNodeException("A must have rank >= 2");
        if (b.Shape.Length != 2 || !b.IsConstant) throw new OnnxNodeException("B must be a 2-D constant");
        long k = a.Shape[^1];
        if (b.Shape[0] != k) throw new OnnxNodeException($"B [{string.Join(",", b.Shape)}] does not match A [{string.Join(",", a.Shape)}]");
        long n = b.Shape[1];
        long rows = 1;
        for (int d = 0; d < a.Shape.Length - 1; d++) rows *= a.Shape[d];
        long[] outShape = [.. a.Shape[..^1], n];

        // MatMul + Add(bias [N]) becomes one fully connected operator.
        Value? bias = null;
        string outputName = node.Outputs[0];
        int next = SoleConsumer(outputName);
        if (next >= 0 && _graph.Nodes[next].OpType == "Add" && a.DequantOf is null)
        {
            var add = _graph.Nodes[next];
            if (add.Inputs.Count != 2 || add.Outputs.Count != 1 || add.Outputs[0].Length == 0) goto noBias;
            string other = add.Inputs[0] == outputName ? add.Inputs[1] : add.Inputs[0];
            if (_values.TryGetValue(other, out var ov) && ov.IsConstant && ov.Shape.Aggregate(1L, (p, d) => p * d) == n &&
                ov.Shape.Length >= 1 && ov.Shape[^1] == n)
            {
                bias = ov;
                _absorbed[next] = true;
                outputName = add.Outputs[0];
            }
        }
    noBias:
        EmitFullyConnected(node, name, a, b, false, 1f, bias, 1f, rows, k, n, outputName, outShape);
    }

    private void EmitFullyConnected(OnnxNode node, string name, Value a, Value b, bool transB, float alpha, Value? c, float beta,
        long rows, long k, long n, string outputName, long[] outShape)
    {
        // int8: DQ(a), DQ(b) [, DQ(c)] -> Gemm/MatMul [-> Relu/Clip] -> Q.
        if (a.DequantOf is { } aq && b.QuantConstant is { } bq && (c is null || c.QuantConstant is not null) && alpha == 1f && beta == 1f)
        {
            var (act, actNode) = FusableActivation(outputName);
            string after = actNode >= 0 ? _graph.Nodes[actNode].Outputs[0] : outputName;
            int qNode = SoleConsumer(after);
            if (qNode >= 0 && _graph.Nodes[qNode].OpType == "QuantizeLinear" && QuantizeParams(_graph.Nodes[qNode]) is { } qp)
            {
                if (actNode >= 0) _absorbed[actNode] = true;
                _absorbed[qNode] = true;
                string qName = _graph.Nodes[qNode].Outputs[0];
                EmitQuantizedFullyConnected(aq, bq, transB, c?.QuantConstant, rows, k, n, qp.Scale, qp.ZeroPoint, qp.Type, act, qName, outShape, name);
                return;
            }
        }

        var input = Float(a.Name);
        float[] w = ConstFloats(b, "B");
        var filter = new float[n * k];
        for (int o = 0; o < n; o++)
        for (int i = 0; i < k; i++)
            filter[o * k + i] = alpha * (transB ? w[o * k + i] : w[i * n + o]);
        var bias = new float[n];
        if (c is not null)
        {
            float[] cv = ConstFloats(c, "C");
            if (cv.Length == 1) Array.Fill(bias, cv[0] * beta);
            else if (cv.Length == n) for (int o = 0; o < n; o++) bias[o] = cv[o] * beta;
            else throw new OnnxNodeException($"bias C [{string.Join(",", c.Shape)}] must be a scalar or have {n} values");
        }
        var (fused, fusedNode) = FusableActivation(outputName);
        if (fusedNode >= 0)
        {
            _absorbed[fusedNode] = true;
            outputName = _graph.Nodes[fusedNode].Outputs[0];
        }
        int filterTensor = ConstF32(name + "/weights", [(int)n, (int)k], filter);
        int biasTensor = ConstF32(name + "/bias", [(int)n], bias);
        int fcOut = AddActivation(outShape.Length == 2 ? outputName : outputName + "/rows", DataType.Float32, [(int)rows, (int)n], null);
        Emit(OperatorType.FullyConnected, [AsSource(input), filterTensor, biasTensor], fcOut, new OperatorAttributes { Activation = fused }, name);
        if (outShape.Length != 2)
        {
            int reshaped = AddActivation(outputName, DataType.Float32, Dims(outShape), null);
            fcOut = Emit(OperatorType.Reshape, [fcOut], reshaped, default, name + "/reshape");
        }
        Set(outputName, new Value(outputName) { Shape = outShape, Tensor = fcOut });
        _ = node;
    }

    private void EmitQuantizedFullyConnected(Value aq, QuantConst bq, bool transB, QuantConst? c, long rows, long k, long n,
        float outScale, int outZeroPoint, OnnxDataType outType, FusedActivation activation, string outputName, long[] outShape, string name)
    {
        if (bq.Type is not (OnnxDataType.Int8 or OnnxDataType.UInt8)) throw new OnnxNodeException($"B of type {bq.Type} is not supported");
        int channelAxis = transB ? 0 : 1;
        bool perChannel = bq.Scales.Length > 1;
        if (perChannel && bq.Axis != channelAxis) throw new OnnxNodeException("per-channel B quantization must be along the output axis");
        int shift = bq.Type == OnnxDataType.UInt8 ? 128 : 0;
        var zps = bq.ZeroPoints.Select(z => (int)(z - shift)).ToArray();
        if (perChannel && zps.Any(z => z != 0)) throw new OnnxNodeException("per-channel B quantization must be symmetric");
        if (zps[0] is < -128 or > 127) throw new OnnxNodeException("B zero point is out of range");
        var filter = new sbyte[n * k];
        for (int o = 0; o < n; o++)
        for (int i = 0; i < k; i++)
            filter[o * k + i] = (sbyte)((transB ? bq.Values[o * k + i] : bq.Values[i * n + o]) - shift);
        var inputQuant = _model.Tensors[aq.Tensor].Quantization!;
        var filterQuant = new QuantizationInfo([.. bq.Scales], perChannel ? new int[bq.Scales.Length] : [zps[0]], perChannel ? 0 : -1);
        int filterTensor = ConstI8(name + "/weights", [(int)n, (int)k], filter, filterQuant);
        var inputs = new List<int> { AsSource(aq), filterTensor };
        if (c is not null)
        {
            if (c.Type != OnnxDataType.Int32 || (c.Values.Length != n && c.Values.Length != 1)) throw new OnnxNodeException($"bias must be int32 with {n} values");
            var bias = new int[n];
            for (int o = 0; o < n; o++) bias[o] = (int)(c.Values[c.Values.Length == 1 ? 0 : o] - c.ZeroPoints[0]);
            var biasScales = bq.Scales.Select(s => inputQuant.Scale * s).ToArray();
            inputs.Add(ConstI32(name + "/bias", [(int)n], bias, new QuantizationInfo(biasScales, new int[biasScales.Length], perChannel ? 0 : -1)));
        }
        var outQuant = QuantizationInfo.PerTensor(outScale, outZeroPoint);
        int fcOut = AddActivation(outShape.Length == 2 ? outputName : outputName + "/rows", DataType.Int8, [(int)rows, (int)n], outQuant);
        Emit(OperatorType.FullyConnected, [.. inputs], fcOut, new OperatorAttributes { Activation = activation }, name);
        if (outShape.Length != 2)
        {
            int reshaped = AddActivation(outputName, DataType.Int8, Dims(outShape), outQuant);
            fcOut = Emit(OperatorType.Reshape, [fcOut], reshaped, default, name + "/reshape");
        }
        Set(outputName, new Value(outputName) { Shape = outShape, Tensor = fcOut, IsQuantized = true, SourceType = outType });
    }

    private void ConvertQLinearMatMul(OnnxNode node, string name)
    {
        if (node.Inputs.Count != 8) throw new OnnxNodeException("needs 8 inputs");
        var a = Get(node.Inputs[0]);
        if (!a.IsQuantized || a.Tensor < 0) throw new OnnxNodeException("A must be a quantized activation");
        var bq = QuantConstFrom(node, 3, 4, 5, axis: -1);
        if (bq.Shape.Length != 2) throw new OnnxNodeException("B must be a 2-D constant");
        if (bq.Scales.Length > 1) bq = bq with { Axis = 1 };
        var (ys, yz, yt) = ScaleZeroPoint(node, 6, 7, null);
        if (ys.Length != 1) throw new OnnxNodeException("per-axis output quantization is not supported");
        if (a.Shape.Length < 2) throw new OnnxNodeException("A must have rank >= 2");
        long k = a.Shape[^1], n = bq.Shape[1];
        if (bq.Shape[0] != k) throw new OnnxNodeException("B does not match A");
        long rows = 1;
        for (int d = 0; d < a.Shape.Length - 1; d++) rows *= a.Shape[d];
        EmitQuantizedFullyConnected(a, bq, false, null, rows, k, n, ys[0], ToInt8ZeroPoint(yz[0], yt), yt, FusedActivation.None,
            node.Outputs[0], [.. a.Shape[..^1], n], name);
    }

    private void ConvertSoftmax(OnnxNode node, string name)
    {
        // int8: DQ -> Softmax (last axis) -> Q(1/256, -128 as int8) is TFLite's int8 softmax.
        var raw = Get(node.Inputs[0]);
        long rawAxis = IntAttr(node, "axis", _opset >= 13 ? -1 : 1);
        if (rawAxis < 0) rawAxis += raw.Shape.Length;
        if (rawAxis == raw.Shape.Length - 1 && QuantizedGroup(raw, node.Outputs[0]) is { } g &&
            Math.Abs(g.Params.Scale - 1f / 256) < 1e-9f && g.Params.ZeroPoint == -128)
        {
            _absorbed[g.QNode] = true;
            string qName = _graph.Nodes[g.QNode].Outputs[0];
            int src = AsSource(g.Input);
            int qOut = AddActivation(qName, DataType.Int8, _model.Tensors[src].Shape, QuantizationInfo.PerTensor(1f / 256, -128));
            Emit(OperatorType.Softmax, [src], qOut, new OperatorAttributes { Beta = 1f }, name);
            Set(qName, new Value(qName) { Shape = raw.Shape, Tensor = qOut, IsQuantized = true, SourceType = g.Params.Type });
            return;
        }
        var x = Float(node.Inputs[0]);
        int rank = x.Shape.Length;
        long axis = IntAttr(node, "axis", _opset >= 13 ? -1 : 1);
        if (axis < 0) axis += rank;
        if (axis < 0 || axis >= rank) throw new OnnxNodeException($"axis {axis} is out of range for rank {rank}");
        int input = AsSource(x);
        if (_opset >= 13 && axis != rank - 1) throw new OnnxNodeException($"softmax over axis {axis} of rank {rank} is not supported (last axis only)");
        int[] shape = _model.Tensors[input].Shape;
        bool coerce = axis != rank - 1; // opset < 13: softmax over the flattened trailing dims
        if (coerce)
        {
            long outer = 1, inner = 1;
            for (int d = 0; d < rank; d++)
            {
                if (d < axis) outer *= shape[d];
                else inner *= shape[d];
            }
            int flat = AddActivation(node.Outputs[0] + "/2d", DataType.Float32, [(int)outer, (int)inner], null);
            input = Emit(OperatorType.Reshape, [input], flat, default, name + "/flatten");
        }
        int output = AddActivation(coerce ? node.Outputs[0] + "/softmax" : node.Outputs[0], DataType.Float32, _model.Tensors[input].Shape, null);
        Emit(OperatorType.Softmax, [input], output, new OperatorAttributes { Beta = 1f }, name);
        if (coerce)
        {
            int back = AddActivation(node.Outputs[0], DataType.Float32, shape, null);
            output = Emit(OperatorType.Reshape, [output], back, default, name + "/unflatten");
        }
        Set(node.Outputs[0], new Value(node.Outputs[0]) { Shape = x.Shape, Tensor = output });
    }

    private void ConvertQuantize(OnnxNode node, string name)
    {
        var x = Get(node.Inputs[0]);
        if (node.Attribute("output_dtype") is not null || node.Attribute("saturate") is { I: 0 }) throw new OnnxNodeException("output_dtype/saturate attributes are not supported");
        var (scales, zps, type) = ScaleZeroPoint(node, 1, 2, null);
        if (scales.Length != 1) throw new OnnxNodeException("per-axis quantization of an activation is not supported");
        if (type == OnnxDataType.Int32) throw new OnnxNodeException("int32 output is not supported");
        int zp = ToInt8ZeroPoint(zps[0], type);
        var quant = QuantizationInfo.PerTensor(scales[0], zp);
        string outputName = node.Outputs[0];
        if (x.DequantOf is { } xq)
        {
            var q = _model.Tensors[xq.Tensor].Quantization!;
            int src = xq.Nhwc ? xq.Tensor : AsSource(xq);
            int output = AddActivation(outputName, DataType.Int8, _model.Tensors[src].Shape, quant);
            // Same parameters: a copy; otherwise an int8 requantization.
            Emit(q.Scale == quant.Scale && q.ZeroPoint == quant.ZeroPoint ? OperatorType.Reshape : OperatorType.Quantize, [src], output, default, name);
            Set(outputName, new Value(outputName) { Shape = x.Shape, Tensor = output, Nhwc = xq.Nhwc, IsQuantized = true, SourceType = type });
            return;
        }
        var f = Float(x.Name);
        int outTensor = AddActivation(outputName, DataType.Int8, _model.Tensors[f.Tensor].Shape, quant);
        Emit(OperatorType.Quantize, [f.Tensor], outTensor, default, name);
        Set(outputName, new Value(outputName) { Shape = x.Shape, Tensor = outTensor, Nhwc = f.Nhwc, IsQuantized = true, SourceType = type });
    }

    private void ConvertDequantize(OnnxNode node, string name)
    {
        var x = Get(node.Inputs[0]);
        string outputName = node.Outputs[0];
        long axis = IntAttr(node, "axis", 1);
        if (x.Constant is not null)
        {
            var qc = QuantConstFrom(node, 0, 1, 2, (int)axis);
            Set(outputName, new Value(outputName) { QuantConstant = qc, Shape = qc.Shape });
            return;
        }
        if (!x.IsQuantized || x.Tensor < 0) throw new OnnxNodeException("input must be a quantized (uint8/int8) tensor or constant");
        var (scales, zps, type) = ScaleZeroPoint(node, 1, 2, null);
        if (node.Inputs.Count <= 2 || node.Inputs[2].Length == 0) type = x.SourceType;
        if (scales.Length != 1) throw new OnnxNodeException("per-axis dequantization of an activation is not supported");
        var q = _model.Tensors[x.Tensor].Quantization!;
        if (q.Scale != scales[0] || q.ZeroPoint != ToInt8ZeroPoint(zps[0], type))
            throw new OnnxNodeException($"dequantizes {Q(x.Name)} with scale {scales[0]} and zero point {zps[0]}, but it was quantized with scale {q.Scale} and zero point {q.ZeroPoint}");
        Set(outputName, new Value(outputName) { Shape = x.Shape, DequantOf = x });
        _ = name;
    }
}
