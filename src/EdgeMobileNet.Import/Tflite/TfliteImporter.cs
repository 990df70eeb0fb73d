using System.Buffers.Binary;
using System.Globalization;
using EdgeMobileNet.Format;
using EdgeMobileNet.Format.Io;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Analysis;
using static EdgeMobileNet.Import.Tflite.TfliteSchema;

namespace EdgeMobileNet.Import.Tflite;

/// <summary>
/// Imports a TFLite FlatBuffer (schema 3, subgraph 0): CONV_2D, DEPTHWISE_CONV_2D, ADD, AVERAGE_POOL_2D, MEAN over
/// H and W, FULLY_CONNECTED, RESHAPE, SQUEEZE, SOFTMAX, QUANTIZE, DEQUANTIZE, PAD (folded into the convolution that
/// reads it) and TRANSPOSE; fp32 and int8 (per-tensor and per-channel). The graph input is exactly the source input
/// tensor, so a raw tensor in the source's own layout and type can be fed.
/// </summary>
public sealed class TfliteImporter : IModelImporter
{
    public string FormatName => "TFLite";

    /// <summary>True when <paramref name="bytes"/> carries the TFLite file identifier "TFL3" at offset 4.</summary>
    public static bool HasIdentifier(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 8 && bytes[4] == 'T' && bytes[5] == 'F' && bytes[6] == 'L' && bytes[7] == '3';

    public ImportResult Import(byte[] bytes, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length < 8) throw new ImportException($"{sourceName}: {bytes.Length} bytes is too short for a TFLite file");
        if (!HasIdentifier(bytes)) throw new ImportException($"{sourceName}: not a TFLite file (no \"TFL3\" identifier at byte 4)");
        var result = new Conversion(new FlatBufferReader(bytes, sourceName)).Run();
        try
        {
            EmnValidator.Validate(result.Model, sourceName);
            GraphValidator.Validate(result.Model, sourceName);
        }
        catch (ModelFormatException e)
        {
            throw new ImportException($"{sourceName}: the converted graph is not valid: {e.Message}");
        }
        return result;
    }

    private sealed class SourceOp
    {
        public int Index;
        public int Code;
        public string Name = string.Empty;
        public int[] Inputs = [];
        public int[] Outputs = [];
        public byte OptionsType;
        public FbTable? Options;
    }

    private sealed class Conversion(FlatBufferReader r)
    {
        private readonly string _source = r.SourceName;
        private readonly List<string> _errors = [];
        private readonly ModelDefinition _model = new();
        private readonly ImportSummary _summary = new() { SourceFormat = "TFLite" };
        private FbVector _tensors;
        private FbVector? _buffers;
        private int[] _map = [];
        private readonly Dictionary<int, int> _consumers = [];
        private readonly HashSet<int> _graphOutputs = [];

        public ImportResult Run()
        {
            var root = r.Root("model");
            uint version = root.UInt(ModelVersion);
            if (version != 3) throw r.Malformed($"schema version {version}, expected 3");
            var codes = root.Vector(ModelOperatorCodes, 4, "operator_codes");
            var subgraphs = root.Vector(ModelSubgraphs, 4, "subgraphs") ?? throw r.Malformed("no subgraphs");
            if (subgraphs.Count < 1) throw r.Malformed("no subgraphs");
            _buffers = root.Vector(ModelBuffers, 4, "buffers");
            var description = root.String(ModelDescription, "description");
            var graph = subgraphs.Table(0);
            _tensors = graph.Vector(SubGraphTensors, 4, "tensors") ?? throw r.Malformed("subgraph 0 has no tensors");
            _map = new int[_tensors.Count];
            Array.Fill(_map, -1);
            _model.Name = graph.String(SubGraphName, "name") is { Length: > 0 } n ? n : Path.GetFileNameWithoutExtension(_source);
            _model.Producer = $"edgemobilenet convert (TFLite{(string.IsNullOrEmpty(description) ? "" : ": " + description)})";

            int[] inputs = (graph.Vector(SubGraphInputs, 4, "inputs") ?? throw r.Malformed("subgraph 0 has no inputs")).Ints();
            int[] outputs = (graph.Vector(SubGraphOutputs, 4, "outputs") ?? throw r.Malformed("subgraph 0 has no outputs")).Ints();
            foreach (int t in inputs.Concat(outputs)) CheckTensorIndex(t, "graph input/output");
            foreach (int t in outputs) _graphOutputs.Add(t);

            var ops = ReadOperators(graph, codes);
            _summary.SourceOperatorCount = ops.Count;
            CountConvolutionReaders(ops);
            foreach (var op in ops) _summary.SourceOperators[op.Name] = _summary.SourceOperators.GetValueOrDefault(op.Name) + 1;
            foreach (var op in ops)
                foreach (int t in op.Inputs)
                    if (t >= 0) _consumers[t] = _consumers.GetValueOrDefault(t) + 1;

            foreach (int t in inputs)
            {
                int mapped = TryTensor(t, "graph input");
                if (mapped >= 0) _model.Inputs.Add(mapped);
            }

            var folded = new Dictionary<int, (int Source, int Top, int Left, int Bottom, int Right)>();
            foreach (var op in ops)
            {
                try
                {
                    Convert(op, folded);
                }
                catch (UnsupportedException e)
                {
                    _errors.Add($"operator {op.Index} {op.Name}: {e.Message}");
                }
            }

            foreach (int t in outputs)
            {
                if (_map[t] < 0 && _errors.Count == 0) _errors.Add($"graph output tensor {t} is never produced");
                if (_map[t] >= 0) _model.Outputs.Add(_map[t]);
            }
            if (_errors.Count > 0)
                throw new ImportException($"{_source}: cannot convert: {string.Join("; ", _errors)}");

            foreach (int t in _model.Inputs) _summary.Inputs.Add(Describe(_model.Tensors[t]));
            foreach (int t in _model.Outputs) _summary.Outputs.Add(Describe(_model.Tensors[t]));
            _summary.Quantization = DescribeQuantization();
            return new ImportResult(_model, _summary);
        }

        private List<SourceOp> ReadOperators(FbTable graph, FbVector? codes)
        {
            var list = new List<SourceOp>();
            var opsVector = graph.Vector(SubGraphOperators, 4, "operators");
            if (opsVector is not { } ops) return list;
            for (int i = 0; i < ops.Count; i++)
            {
                var t = ops.Table(i);
                uint opcode = t.UInt(OpOpcodeIndex);
                if (codes is not { } c || opcode >= (uint)c.Count) throw r.Malformed($"operator {i}: opcode index {opcode} out of range");
                var code = c.Table((int)opcode);
                int builtin = Math.Max((int)code.SByte(CodeDeprecatedBuiltin), code.Int(CodeBuiltin));
                string name = OperatorName(builtin);
                if (builtin == Custom) name = $"CUSTOM '{code.String(CodeCustom, "custom_code")}'";
                var op = new SourceOp
                {
                    Index = i, Code = builtin, Name = name,
                    Inputs = t.Vector(OpInputs, 4, "inputs")?.Ints() ?? [],
                    Outputs = t.Vector(OpOutputs, 4, "outputs")?.Ints() ?? [],
                    OptionsType = t.Byte(OpBuiltinOptionsType),
                };
                op.Options = op.OptionsType != 0 ? t.Table(OpBuiltinOptions, "builtin_options") : null;
                foreach (int x in op.Inputs) if (x != -1) CheckTensorIndex(x, $"operator {i} input");
                foreach (int x in op.Outputs) CheckTensorIndex(x, $"operator {i} output");
                list.Add(op);
            }
            return list;
        }

        private void CheckTensorIndex(int t, string what)
        {
            if ((uint)t >= (uint)_tensors.Count) throw r.Malformed($"{what} refers to tensor {t}; the subgraph has {_tensors.Count}");
        }

        // ---------------------------------------------------------------- operators

        private void Convert(SourceOp op, Dictionary<int, (int Source, int Top, int Left, int Bottom, int Right)> folded)
        {
            switch (op.Code)
            {
                case Conv2D:
                case DepthwiseConv2D:
                    ConvertConvolution(op, folded);
                    break;
                case AveragePool2D:
                {
                    Arity(op, 1, 1);
                    var o = Options(op, OptPool2D);
                    var inShape = SourceShape(op.Inputs[0]);
                    if (inShape.Length != 4) throw new UnsupportedException($"input rank {inShape.Length}, expected 4");
                    int fh = o?.Int(PoolFilterH) ?? 0, fw = o?.Int(PoolFilterW) ?? 0;
                    int sh = o?.Int(PoolStrideH) ?? 0, sw = o?.Int(PoolStrideW) ?? 0;
                    if (fh < 1 || fw < 1 || sh < 1 || sw < 1) throw new UnsupportedException($"filter {fh}x{fw} stride {sh}x{sw}");
                    byte padding = o?.Byte(PoolPadding) ?? PaddingSame;
                    var (top, bottom) = Pads(padding, inShape[1], fh, sh, 1);
                    var (left, right) = Pads(padding, inShape[2], fw, sw, 1);
                    var a = new OperatorAttributes
                    {
                        StrideH = sh, StrideW = sw, FilterH = fh, FilterW = fw,
                        PadTop = top, PadLeft = left, PadBottom = bottom, PadRight = right,
                        Activation = Activation(o?.SByte(PoolActivation) ?? ActNone),
                    };
                    Emit(op, OperatorType.AveragePool2D, [Tensor(op.Inputs[0])], op.Outputs[0], a);
                    break;
                }
                case Add:
                {
                    Arity(op, 2, 1);
                    var o = Options(op, OptAdd);
                    if (!SourceShape(op.Inputs[0]).SequenceEqual(SourceShape(op.Inputs[1])))
                        throw new UnsupportedException("broadcasting ADD (inputs of different shapes)");
                    var a = new OperatorAttributes { Activation = Activation(o?.SByte(AddActivation) ?? ActNone) };
                    Emit(op, OperatorType.Add, [Tensor(op.Inputs[0]), Tensor(op.Inputs[1])], op.Outputs[0], a);
                    break;
                }
                case Mean:
                    ConvertMean(op);
                    break;
                case FullyConnected:
                    ConvertFullyConnected(op);
                    break;
                case Reshape:
                case Squeeze:
                    if (op.Inputs.Length < 1 || op.Outputs.Length != 1) throw new UnsupportedException("needs an input and 1 output");
                    Emit(op, OperatorType.Reshape, [Tensor(op.Inputs[0])], op.Outputs[0], default);
                    break;
                case Softmax:
                {
                    Arity(op, 1, 1);
                    var o = Options(op, OptSoftmax);
                    Emit(op, OperatorType.Softmax, [Tensor(op.Inputs[0])], op.Outputs[0],
                        new OperatorAttributes { Beta = o?.Float(SoftmaxBeta) ?? 0f });
                    break;
                }
                case Quantize:
                    Arity(op, 1, 1);
                    Emit(op, OperatorType.Quantize, [Tensor(op.Inputs[0])], op.Outputs[0], default);
                    break;
                case Dequantize:
                    Arity(op, 1, 1);
                    Emit(op, OperatorType.Dequantize, [Tensor(op.Inputs[0])], op.Outputs[0], default);
                    break;
                case Transpose:
                {
                    Arity(op, 2, 1);
                    int rank = SourceShape(op.Inputs[0]).Length;
                    var perm = ConstantInts(op.Inputs[1], "perm");
                    if (perm.Length != rank) throw new UnsupportedException($"perm has {perm.Length} entries for rank {rank}");
                    var data = new byte[perm.Length * 4];
                    for (int i = 0; i < perm.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(i * 4), perm[i]);
                    int permTensor = _model.AddTensor(new TensorDefinition($"{SourceName(op.Outputs[0])}/perm", DataType.Int32,
                        [perm.Length], null, data));
                    Emit(op, OperatorType.Transpose, [Tensor(op.Inputs[0]), permTensor], op.Outputs[0], default);
                    break;
                }
                case Pad:
                    ConvertPad(op, folded);
                    break;
                default:
                    throw new UnsupportedException("operator not supported");
            }
        }

        private void ConvertConvolution(SourceOp op, Dictionary<int, (int Source, int Top, int Left, int Bottom, int Right)> folded)
        {
            bool depthwise = op.Code == DepthwiseConv2D;
            if (op.Inputs.Length is < 2 or > 3 || op.Outputs.Length != 1) throw new UnsupportedException("needs 2 or 3 inputs and 1 output");
            var o = Options(op, depthwise ? OptDepthwiseConv2D : OptConv2D);
            int input = op.Inputs[0];
            int extraTop = 0, extraLeft = 0, extraBottom = 0, extraRight = 0;
            if (folded.TryGetValue(input, out var f))
            {
                input = f.Source;
                (extraTop, extraLeft, extraBottom, extraRight) = (f.Top, f.Left, f.Bottom, f.Right);
            }
            var inShape = SourceShape(input);
            var filterShape = SourceShape(op.Inputs[1]);
            if (inShape.Length != 4 || filterShape.Length != 4) throw new UnsupportedException("input and filter must have rank 4");
            int sh = o?.Int(depthwise ? DwStrideH : ConvStrideH) ?? 0, sw = o?.Int(depthwise ? DwStrideW : ConvStrideW) ?? 0;
            int dh = o?.Int(depthwise ? DwDilationH : ConvDilationH, 1) ?? 1, dw = o?.Int(depthwise ? DwDilationW : ConvDilationW, 1) ?? 1;
            if (sh < 1 || sw < 1 || dh < 1 || dw < 1 || sh > 65536 || sw > 65536 || dh > 65536 || dw > 65536)
                throw new UnsupportedException($"stride {sh}x{sw} dilation {dh}x{dw}");
            byte padding = o?.Byte(depthwise ? DwPadding : ConvPadding) ?? PaddingSame;
            int paddedH = inShape[1] + extraTop + extraBottom, paddedW = inShape[2] + extraLeft + extraRight;
            var (top, bottom) = Pads(padding, paddedH, filterShape[1], sh, dh);
            var (left, right) = Pads(padding, paddedW, filterShape[2], sw, dw);
            int multiplier = 0;
            if (depthwise)
            {
                int inC = inShape[3], outC = filterShape[3];
                if (inC <= 0 || outC % inC != 0) throw new UnsupportedException($"depthwise filter channels {outC} are not a multiple of input channels {inC}");
                multiplier = outC / inC;
            }
            var a = new OperatorAttributes
            {
                StrideH = sh, StrideW = sw, DilationH = dh, DilationW = dw,
                PadTop = top + extraTop, PadLeft = left + extraLeft, PadBottom = bottom + extraBottom, PadRight = right + extraRight,
                DepthMultiplier = multiplier,
                Activation = Activation(o?.SByte(depthwise ? DwActivation : ConvActivation) ?? ActNone),
            };
            var inputs = new List<int> { Tensor(input), Tensor(op.Inputs[1]) };
            if (op.Inputs.Length == 3 && op.Inputs[2] >= 0) inputs.Add(Tensor(op.Inputs[2]));
            Emit(op, depthwise ? OperatorType.DepthwiseConv2D : OperatorType.Conv2D, [.. inputs], op.Outputs[0], a);
        }

        private void ConvertPad(SourceOp op, Dictionary<int, (int Source, int Top, int Left, int Bottom, int Right)> folded)
        {
            Arity(op, 2, 1);
            int input = op.Inputs[0], output = op.Outputs[0];
            var shape = SourceShape(input);
            var pads = ConstantInts(op.Inputs[1], "paddings");
            if (pads.Length != 2 * shape.Length) throw new UnsupportedException($"{pads.Length} paddings for rank {shape.Length}");
            if (pads.Any(p => p < 0 || p > 65536)) throw new UnsupportedException("negative or huge padding");
            var ti = _tensors.Table(input);
            var to = _tensors.Table(output);
            if (!SameQuantization(ti, to)) throw new UnsupportedException("input and output quantization differ");

            // Fold into the convolution(s) reading it: they pad with the input zero point (int8) or 0 (fp32), exactly
            // what TFLite's PAD writes.
            bool foldable = shape.Length == 4 && pads[0] == 0 && pads[1] == 0 && pads[6] == 0 && pads[7] == 0 &&
                !_graphOutputs.Contains(output) && _consumers.GetValueOrDefault(output) >= 1 &&
                ConsumersAreConvolutionInputs(output) && !folded.ContainsKey(input);
            if (foldable)
            {
                folded[output] = (input, pads[2], pads[4], pads[3], pads[5]);
                _summary.Notes.Add($"operator {op.Index} PAD folded into the padding of the convolution that reads it");
                return;
            }
            var data = new byte[pads.Length * 4];
            for (int i = 0; i < pads.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(i * 4), pads[i]);
            int padTensor = _model.AddTensor(new TensorDefinition($"{SourceName(output)}/paddings", DataType.Int32,
                [shape.Length, 2], null, data));
            Emit(op, OperatorType.Pad, [Tensor(input), padTensor], output, default);
        }

        private bool ConsumersAreConvolutionInputs(int tensor)
        {
            // Every reader must be a CONV_2D/DEPTHWISE_CONV_2D reading it as input 0: those pad with the zero point,
            // which is exactly what TFLite's PAD writes (int8: the output zero point; fp32: 0).
            return _convReaders.TryGetValue(tensor, out int convReads) && convReads == _consumers.GetValueOrDefault(tensor);
        }

        private readonly Dictionary<int, int> _convReaders = [];

        private void CountConvolutionReaders(List<SourceOp> ops)
        {
            foreach (var op in ops)
                if ((op.Code is Conv2D or DepthwiseConv2D) && op.Inputs.Length > 0 && op.Inputs[0] >= 0 &&
                    !op.Inputs.Skip(1).Contains(op.Inputs[0]))
                    _convReaders[op.Inputs[0]] = _convReaders.GetValueOrDefault(op.Inputs[0]) + 1;
        }

        private void ConvertMean(SourceOp op)
        {
            Arity(op, 2, 1);
            var o = Options(op, OptReducer);
            var shape = SourceShape(op.Inputs[0]);
            if (shape.Length != 4) throw new UnsupportedException($"input rank {shape.Length}, expected 4");
            var axes = ConstantInts(op.Inputs[1], "axis").Select(x => x < 0 ? x + 4 : x).Distinct().Order().ToArray();
            if (!axes.SequenceEqual([1, 2])) throw new UnsupportedException($"mean over axes [{string.Join(", ", axes)}]; only [1, 2] (H, W) is supported");
            _ = o?.Bool(ReducerKeepDims);
            EmitWithShape(op, OperatorType.Mean, [Tensor(op.Inputs[0])], op.Outputs[0], default, [shape[0], 1, 1, shape[3]]);
        }

        private void ConvertFullyConnected(SourceOp op)
        {
            if (op.Inputs.Length is < 2 or > 3 || op.Outputs.Length != 1) throw new UnsupportedException("needs 2 or 3 inputs and 1 output");
            var o = Options(op, OptFullyConnected);
            if ((o?.SByte(FcWeightsFormat) ?? 0) != 0) throw new UnsupportedException("shuffled weights format");
            var filterShape = SourceShape(op.Inputs[1]);
            if (filterShape.Length != 2) throw new UnsupportedException("filter must have rank 2");
            long inElements = Elements(SourceShape(op.Inputs[0]));
            if (filterShape[1] <= 0 || inElements % filterShape[1] != 0) throw new UnsupportedException("input is not a whole number of filter rows");
            var a = new OperatorAttributes { Activation = Activation(o?.SByte(FcActivation) ?? ActNone) };
            var inputs = new List<int> { Tensor(op.Inputs[0]), Tensor(op.Inputs[1]) };
            if (op.Inputs.Length == 3 && op.Inputs[2] >= 0) inputs.Add(Tensor(op.Inputs[2]));
            EmitWithShape(op, OperatorType.FullyConnected, [.. inputs], op.Outputs[0], a,
                [(int)(inElements / filterShape[1]), filterShape[0]]);
        }

        /// <summary>Emits the operator into a tensor of <paramref name="shape"/>, then a Reshape when the source output differs.</summary>
        private void EmitWithShape(SourceOp op, OperatorType type, int[] inputs, int output, OperatorAttributes a, int[] shape)
        {
            if (SourceShape(output).SequenceEqual(shape))
            {
                Emit(op, type, inputs, output, a);
                return;
            }
            var final = ConvertTensor(output);
            int mid = _model.AddTensor(new TensorDefinition(final.Name + "/" + type.ToString().ToLowerInvariant(), final.DataType,
                shape, final.Quantization));
            _model.Operators.Add(new OperatorDefinition(type, inputs, [mid], a, $"{op.Index} {op.Name}"));
            _map[output] = _model.AddTensor(final);
            _model.Operators.Add(new OperatorDefinition(OperatorType.Reshape, [mid], [_map[output]], default, $"{op.Index} {op.Name} reshape"));
            _summary.Notes.Add($"operator {op.Index} {op.Name}: output {final.ShapeText} reached through a Reshape");
        }

        private void Emit(SourceOp op, OperatorType type, int[] inputs, int output, OperatorAttributes a)
        {
            if (_map[output] >= 0) throw new UnsupportedException($"output tensor {output} already has a producer");
            int t = Tensor(output);
            _model.Operators.Add(new OperatorDefinition(type, inputs, [t], a, $"{op.Index} {op.Name}"));
        }

        private static void Arity(SourceOp op, int inputs, int outputs)
        {
            if (op.Inputs.Length != inputs || op.Outputs.Length != outputs || op.Inputs.Any(i => i < 0))
                throw new UnsupportedException($"needs {inputs} inputs and {outputs} outputs, has {op.Inputs.Length} and {op.Outputs.Length}");
        }

        private static FbTable? Options(SourceOp op, byte expected)
        {
            if (op.OptionsType == 0) return null;
            if (op.OptionsType != expected) throw new UnsupportedException($"builtin options type {op.OptionsType}, expected {expected}");
            return op.Options;
        }

        private static FusedActivation Activation(sbyte code) => code switch
        {
            ActNone => FusedActivation.None,
            ActRelu => FusedActivation.Relu,
            ActRelu6 => FusedActivation.Relu6,
            _ => throw new UnsupportedException($"fused activation {code} (only NONE, RELU, RELU6)"),
        };

        /// <summary>TFLite's padding for SAME (ComputePaddingHeightWidth) as explicit (before, after); VALID is (0, 0).</summary>
        private static (int Before, int After) Pads(byte padding, int inSize, int filter, int stride, int dilation)
        {
            if (padding == PaddingValid) return (0, 0);
            if (padding != PaddingSame) throw new UnsupportedException($"padding type {padding}");
            long effective = (long)(filter - 1) * dilation + 1;
            long outSize = ((long)inSize + stride - 1) / stride;
            long total = Math.Max((outSize - 1) * stride + effective - inSize, 0);
            if (total > 131072) throw new UnsupportedException("padding too large");
            return ((int)(total / 2), (int)(total - total / 2));
        }

        // ---------------------------------------------------------------- tensors

        private int Tensor(int index)
        {
            if (index < 0) throw new UnsupportedException("optional input missing");
            if (_map[index] < 0) _map[index] = _model.AddTensor(ConvertTensor(index));
            return _map[index];
        }

        private int TryTensor(int index, string what)
        {
            try
            {
                return Tensor(index);
            }
            catch (UnsupportedException e)
            {
                _errors.Add($"{what} tensor {index}: {e.Message}");
                return -1;
            }
        }

        private string SourceName(int index) => _tensors.Table(index).String(TensorName, "name") ?? $"tensor{index}";

        private int[] SourceShape(int index)
        {
            if (index < 0) throw new UnsupportedException("optional input missing");
            var t = _tensors.Table(index);
            var shape = t.Vector(TensorShape, 4, "shape")?.Ints() ?? [];
            if (shape.Length > 6) throw new UnsupportedException($"tensor {index} has rank {shape.Length} (at most 6)");
            foreach (int d in shape)
                if (d < 1) throw new UnsupportedException($"tensor {index} '{SourceName(index)}' has dimension {d} (dynamic or empty shapes are not supported)");
            if (Elements(shape) > int.MaxValue / 4) throw new UnsupportedException($"tensor {index} is too large");
            return shape;
        }

        private static long Elements(int[] shape)
        {
            long n = 1;
            foreach (int d in shape) n = Math.Min(n * d, 1L << 40);
            return n;
        }

        private ReadOnlyMemory<byte>? ConstantData(FbTable tensor)
        {
            uint b = tensor.UInt(TensorBuffer);
            if (b == 0) return null; // buffer 0 is the empty sentinel
            if (_buffers is not { } buffers || b >= (uint)buffers.Count) throw r.Malformed($"{tensor.What}: buffer {b} out of range");
            var buffer = buffers.Table((int)b);
            ulong offset = buffer.ULong(BufferOffset), size = buffer.ULong(BufferSize);
            if (offset > 1)
            {
                r.Need((long)Math.Min(offset, long.MaxValue), (long)Math.Min(size, long.MaxValue), $"buffer {b} data");
                return new ReadOnlyMemory<byte>(r.Bytes, (int)offset, (int)size);
            }
            var data = buffer.Vector(BufferData, 1, "data");
            return data is { Count: > 0 } d ? d.Bytes() : (ReadOnlyMemory<byte>?)null;
        }

        private TensorDefinition ConvertTensor(int index)
        {
            var t = _tensors.Table(index);
            string name = t.String(TensorName, "name") ?? $"tensor{index}";
            var shape = SourceShape(index);
            sbyte type = t.SByte(TensorType);
            var dataType = type switch
            {
                TypeFloat32 => DataType.Float32,
                TypeInt8 => DataType.Int8,
                TypeInt32 => DataType.Int32,
                _ => throw new UnsupportedException($"tensor {index} '{name}' has type {TypeName(type)} (supported: FLOAT32, INT8, INT32)"),
            };
            if (t.Has(TensorSparsity)) throw new UnsupportedException($"tensor {index} '{name}' is sparse");
            var quantization = Quantization(t, index, name, dataType, shape);
            var data = ConstantData(t);
            if (data is { } d && d.Length != Elements(shape) * dataType.ElementSize())
                throw new UnsupportedException($"tensor {index} '{name}' has {d.Length} bytes of data for {dataType.ToShortName()}[{string.Join("x", shape)}]");
            if (t.Bool(TensorIsVariable)) throw new UnsupportedException($"tensor {index} '{name}' is a variable");
            return new TensorDefinition(name, dataType, shape, quantization, data);
        }

        private QuantizationInfo? Quantization(FbTable t, int index, string name, DataType type, int[] shape)
        {
            var q = t.Table(TensorQuantization, "quantization");
            var scaleVector = q?.Vector(QuantScale, 4, "scale");
            var zeroVector = q?.Vector(QuantZeroPoint, 8, "zero_point");
            int count = scaleVector?.Count ?? 0;
            if (type == DataType.Float32) return null; // fp32 tensors carry no quantization in .emn (min/max ignored)
            if (count == 0)
            {
                if (type == DataType.Int8) throw new UnsupportedException($"int8 tensor {index} '{name}' has no quantization");
                return null;
            }
            if (q is { } qt && qt.Byte(QuantDetailsType) != 0) throw new UnsupportedException($"tensor {index} '{name}' has custom quantization details");
            int zeroCount = zeroVector?.Count ?? 0;
            if (zeroCount != count && zeroCount > 1) throw new UnsupportedException($"tensor {index} '{name}': {count} scales but {zeroCount} zero points");
            var scales = new float[count];
            var zeros = new int[count];
            for (int i = 0; i < count; i++)
            {
                scales[i] = scaleVector!.Value.Float(i);
                long z = zeroCount == 0 ? 0 : zeroVector!.Value.Long(zeroCount == 1 ? 0 : i);
                if (!(scales[i] > 0) || !float.IsFinite(scales[i])) throw new UnsupportedException($"tensor {index} '{name}' has scale {scales[i]}");
                if (type == DataType.Int8 && (z < -128 || z > 127)) throw new UnsupportedException($"tensor {index} '{name}' has zero point {z}");
                if (type == DataType.Int32 && z != 0) throw new UnsupportedException($"int32 tensor {index} '{name}' has zero point {z}");
                zeros[i] = (int)z;
            }
            if (count == 1) return new QuantizationInfo(scales, zeros);
            int axis = q!.Value.Int(QuantDimension);
            if (shape.Length == 1) axis = 0; // 1-D biases may record the filter's channel axis (e.g. 3)
            if (axis < 0 || axis >= shape.Length || shape[axis] != count)
                throw new UnsupportedException($"tensor {index} '{name}': {count} scales on axis {axis} of [{string.Join("x", shape)}]");
            return new QuantizationInfo(scales, zeros, axis);
        }

        private bool SameQuantization(FbTable a, FbTable b)
        {
            var qa = a.Table(TensorQuantization, "quantization");
            var qb = b.Table(TensorQuantization, "quantization");
            if (a.SByte(TensorType) != b.SByte(TensorType)) return false;
            if (a.SByte(TensorType) == TypeFloat32) return true;
            var sa = qa?.Vector(QuantScale, 4, "scale"); var sb = qb?.Vector(QuantScale, 4, "scale");
            var za = qa?.Vector(QuantZeroPoint, 8, "zero_point"); var zb = qb?.Vector(QuantZeroPoint, 8, "zero_point");
            if (sa is not { Count: 1 } x || sb is not { Count: 1 } y) return false;
            long zpa = za is { Count: > 0 } zva ? zva.Long(0) : 0, zpb = zb is { Count: > 0 } zvb ? zvb.Long(0) : 0;
            return x.Float(0) == y.Float(0) && zpa == zpb;
        }

        private int[] ConstantInts(int index, string what)
        {
            if (index < 0) throw new UnsupportedException($"{what} missing");
            var t = _tensors.Table(index);
            var data = ConstantData(t) ?? throw new UnsupportedException($"{what} tensor {index} is not a constant");
            sbyte type = t.SByte(TensorType);
            int size = type == TypeInt32 ? 4 : type == TypeInt64 ? 8 : throw new UnsupportedException($"{what} tensor {index} has type {TypeName(type)}");
            if (data.Length % size != 0 || data.Length / size > 64) throw new UnsupportedException($"{what} tensor {index} has {data.Length} bytes");
            var span = data.Span;
            var values = new int[data.Length / size];
            for (int i = 0; i < values.Length; i++)
            {
                long v = size == 4 ? BinaryPrimitives.ReadInt32LittleEndian(span[(i * 4)..]) : BinaryPrimitives.ReadInt64LittleEndian(span[(i * 8)..]);
                if (v < int.MinValue || v > int.MaxValue) throw new UnsupportedException($"{what} value {v}");
                values[i] = (int)v;
            }
            return values;
        }

        // ---------------------------------------------------------------- summary

        private static string Describe(TensorDefinition t) => t.Quantization is { } q
            ? string.Create(CultureInfo.InvariantCulture, $"'{t.Name}' {t.DataType.ToShortName()}{t.ShapeText} scale {q.Scale:G9} zero point {q.ZeroPoint}")
            : $"'{t.Name}' {t.DataType.ToShortName()}{t.ShapeText}";

        private string DescribeQuantization()
        {
            bool anyInt8 = _model.Tensors.Any(t => t.DataType == DataType.Int8);
            bool anyF32 = _model.Tensors.Any(t => t.DataType == DataType.Float32);
            bool perChannel = _model.Tensors.Any(t => t.DataType == DataType.Int8 && t.Quantization is { IsPerChannel: true });
            var parts = new List<string>();
            if (anyInt8) parts.Add(perChannel ? "int8 (weights per-channel)" : "int8 (per-tensor)");
            if (anyF32) parts.Add("fp32");
            return string.Join(" + ", parts);
        }
    }

    /// <summary>Content the engine cannot run: collected per operator, reported together.</summary>
    private sealed class UnsupportedException(string message) : Exception(message);
}
