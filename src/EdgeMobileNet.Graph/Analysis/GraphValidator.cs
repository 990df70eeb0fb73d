using EdgeMobileNet.Format;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Kernels;

namespace EdgeMobileNet.Graph.Analysis;

/// <summary>
/// Checks that a model is executable: every operator has the inputs, dtypes, quantization and
/// shapes its kernel needs, its declared output shape is the one the operator computes, and every
/// activation is produced before it is read. Violations throw <see cref="ModelFormatException"/>
/// naming the model, operator index, name and type.
/// </summary>
public static class GraphValidator
{
    public static void Validate(ModelDefinition model, string sourceName)
    {
        if (model.Inputs.Count == 0) throw new ModelFormatException($"{sourceName}: the graph has no inputs");
        if (model.Outputs.Count == 0) throw new ModelFormatException($"{sourceName}: the graph has no outputs");

        var available = new bool[model.Tensors.Count];
        for (int t = 0; t < model.Tensors.Count; t++) available[t] = model.Tensors[t].IsConstant;
        foreach (int input in model.Inputs)
        {
            CheckIndex(model, input, sourceName, "graph input");
            if (model.Tensors[input].IsConstant)
                throw new ModelFormatException($"{sourceName}: graph input {input} '{model.Tensors[input].Name}' is a constant");
            available[input] = true;
        }

        var written = new bool[model.Tensors.Count];
        for (int i = 0; i < model.Operators.Count; i++)
        {
            var op = model.Operators[i];
            var ctx = new OpContext(model, op, i, sourceName);
            foreach (int t in op.Inputs)
            {
                ctx.CheckTensorIndex(t);
                if (!available[t]) throw ctx.Error($"reads tensor {t} '{model.Tensors[t].Name}' before any operator writes it");
            }
            foreach (int t in op.Outputs)
            {
                ctx.CheckTensorIndex(t);
                var tensor = model.Tensors[t];
                if (tensor.IsConstant) throw ctx.Error($"writes constant tensor {t} '{tensor.Name}'");
                if (written[t] || model.Inputs.Contains(t)) throw ctx.Error($"writes tensor {t} '{tensor.Name}' that already has a producer");
                written[t] = true;
                available[t] = true;
            }
            ValidateOperator(ctx);
        }

        foreach (int output in model.Outputs)
        {
            CheckIndex(model, output, sourceName, "graph output");
            if (!available[output])
                throw new ModelFormatException($"{sourceName}: graph output {output} '{model.Tensors[output].Name}' is never written");
        }
    }

    private static void CheckIndex(ModelDefinition model, int index, string sourceName, string what)
    {
        if ((uint)index >= (uint)model.Tensors.Count)
            throw new ModelFormatException($"{sourceName}: {what} index {index} is out of range (model has {model.Tensors.Count} tensors)");
    }

    private static void ValidateOperator(OpContext ctx)
    {
        switch (ctx.Op.Type)
        {
            case OperatorType.Conv2D:
            case OperatorType.DepthwiseConv2D:
                ValidateConvolution(ctx);
                break;
            case OperatorType.FullyConnected:
                ValidateFullyConnected(ctx);
                break;
            case OperatorType.Add:
                ctx.Arity(2, 1);
                ctx.SameShape(ctx.In(0), ctx.In(1), "input 1");
                ctx.SameShape(ctx.In(0), ctx.Out(0), "output");
                ctx.AllActivationsOfOneType(ctx.In(0), ctx.In(1), ctx.Out(0));
                break;
            case OperatorType.AveragePool2D:
                ValidateAveragePool(ctx);
                break;
            case OperatorType.GlobalAveragePool:
            case OperatorType.Mean: // same shapes; they differ only in int8 rounding
            {
                ctx.Arity(1, 1);
                var input = ctx.In(0);
                ctx.Rank(input, 4, "input");
                ctx.ExpectShape(ctx.Out(0), [input.Shape[0], 1, 1, input.Shape[3]], "output");
                ctx.AllActivationsOfOneType(input, ctx.Out(0));
                break;
            }
            case OperatorType.Reshape:
                ctx.Arity(1, 1);
                if (ctx.In(0).ElementCount != ctx.Out(0).ElementCount)
                    throw ctx.Error($"reshapes {ctx.In(0).ShapeText} ({ctx.In(0).ElementCount} elements) to {ctx.Out(0).ShapeText} ({ctx.Out(0).ElementCount} elements)");
                ctx.AllActivationsOfOneType(ctx.In(0), ctx.Out(0));
                if (ctx.In(0).DataType == DataType.Int8 && !SameQuantization(ctx.In(0), ctx.Out(0)))
                    throw ctx.Error("int8 reshape must keep the quantization of its input");
                break;
            case OperatorType.Softmax:
                ctx.Arity(1, 1);
                ctx.SameShape(ctx.In(0), ctx.Out(0), "output");
                ctx.AllActivationsOfOneType(ctx.In(0), ctx.Out(0));
                if (!(ctx.Op.Attributes.Beta > 0) || !float.IsFinite(ctx.Op.Attributes.Beta))
                    throw ctx.Error($"beta {ctx.Op.Attributes.Beta} must be finite and positive");
                if (ctx.Out(0).DataType == DataType.Int8 &&
                    (Math.Abs(ctx.Out(0).Quantization!.Scale - 1f / 256) > 1e-9f || ctx.Out(0).Quantization!.ZeroPoint != -128))
                    throw ctx.Error("int8 softmax output must be quantized with scale 1/256 and zero point -128");
                break;
            case OperatorType.Quantize:
                ctx.Arity(1, 1);
                ctx.SameShape(ctx.In(0), ctx.Out(0), "output");
                if (ctx.In(0).DataType is not (DataType.Float32 or DataType.Int8)) throw ctx.Error("input must be f32 or int8");
                ctx.Activation(ctx.In(0), "input");
                ctx.Int8Activation(ctx.Out(0), "output");
                break;
            case OperatorType.Dequantize:
                ctx.Arity(1, 1);
                ctx.SameShape(ctx.In(0), ctx.Out(0), "output");
                ctx.Int8Activation(ctx.In(0), "input");
                if (ctx.Out(0).DataType != DataType.Float32) throw ctx.Error("output must be f32");
                break;
            case OperatorType.Transpose:
                ValidateTranspose(ctx);
                break;
            case OperatorType.Pad:
                ValidatePad(ctx);
                break;
            default:
                throw ctx.Error("unknown operator type");
        }
    }

    private static void ValidateConvolution(OpContext ctx)
    {
        bool depthwise = ctx.Op.Type == OperatorType.DepthwiseConv2D;
        if (ctx.Op.Inputs.Length is < 2 or > 3 || ctx.Op.Outputs.Length != 1)
            throw ctx.Error($"needs 2 or 3 inputs (input, filter, bias) and 1 output, has {ctx.Op.Inputs.Length} and {ctx.Op.Outputs.Length}");
        var input = ctx.In(0);
        var filter = ctx.In(1);
        var output = ctx.Out(0);
        ctx.Rank(input, 4, "input");
        ctx.Rank(filter, 4, "filter");
        ctx.Rank(output, 4, "output");
        if (!filter.IsConstant) throw ctx.Error("filter must be a constant");
        var a = ctx.Op.Attributes;
        ctx.Positive(a.StrideH, "stride h"); ctx.Positive(a.StrideW, "stride w");
        ctx.Positive(a.DilationH, "dilation h"); ctx.Positive(a.DilationW, "dilation w");
        ctx.NonNegative(a.PadTop, "pad top"); ctx.NonNegative(a.PadLeft, "pad left");
        ctx.NonNegative(a.PadBottom, "pad bottom"); ctx.NonNegative(a.PadRight, "pad right");

        int inC = input.Shape[3];
        int outC, kh = filter.Shape[1], kw = filter.Shape[2];
        if (depthwise)
        {
            ctx.Positive(a.DepthMultiplier, "depth multiplier");
            outC = filter.Shape[3];
            if (filter.Shape[0] != 1) throw ctx.Error($"depthwise filter {filter.ShapeText} must be [1, KH, KW, C*M]");
            if ((long)inC * a.DepthMultiplier != outC)
                throw ctx.Error($"depthwise filter has {outC} channels; input has {inC} with depth multiplier {a.DepthMultiplier}");
        }
        else
        {
            outC = filter.Shape[0];
            if (filter.Shape[3] != inC) throw ctx.Error($"filter {filter.ShapeText} expects {filter.Shape[3]} input channels; input {input.ShapeText} has {inC}");
        }
        int oh = ConvGeometry.OutputSize(input.Shape[1], kh, a.StrideH, a.DilationH, a.PadTop, a.PadBottom);
        int ow = ConvGeometry.OutputSize(input.Shape[2], kw, a.StrideW, a.DilationW, a.PadLeft, a.PadRight);
        if (oh == 0 || ow == 0) throw ctx.Error($"filter {kh}x{kw} does not fit input {input.ShapeText} with the given padding");
        ctx.ExpectShape(output, [input.Shape[0], oh, ow, outC], "output");
        ctx.ValidateWeightedOp(input, filter, output, outC, depthwise ? 3 : 0);
    }

    private static void ValidateFullyConnected(OpContext ctx)
    {
        if (ctx.Op.Inputs.Length is < 2 or > 3 || ctx.Op.Outputs.Length != 1)
            throw ctx.Error($"needs 2 or 3 inputs (input, filter, bias) and 1 output, has {ctx.Op.Inputs.Length} and {ctx.Op.Outputs.Length}");
        var input = ctx.In(0);
        var filter = ctx.In(1);
        var output = ctx.Out(0);
        ctx.Rank(filter, 2, "filter");
        if (!filter.IsConstant) throw ctx.Error("filter must be a constant");
        int depth = filter.Shape[1];
        if (input.ElementCount % depth != 0)
            throw ctx.Error($"input {input.ShapeText} is not a whole number of rows of {depth} (the filter's input depth)");
        long batch = input.ElementCount / depth;
        ctx.ExpectShape(output, [(int)batch, filter.Shape[0]], "output");
        ctx.ValidateWeightedOp(input, filter, output, filter.Shape[0], 0);
    }

    private static void ValidatePad(OpContext ctx)
    {
        ctx.Arity(2, 1);
        var input = ctx.In(0);
        var paddings = ctx.In(1);
        int rank = input.Shape.Length;
        if (!paddings.IsConstant || paddings.DataType != DataType.Int32 || paddings.Shape.Length != 2 ||
            paddings.Shape[0] != rank || paddings.Shape[1] != 2 || paddings.Data!.Value.Length != rank * 8)
            throw ctx.Error($"paddings '{paddings.Name}' must be a constant int32 [{rank}, 2]");
        var (before, after) = Operators.PadOperator.Paddings(paddings);
        int[] expected;
        try
        {
            expected = EdgeMobileNet.Kernels.Reference.PadReference.OutputShape(input.Shape, before, after);
        }
        catch (Exception e) when (e is ArgumentException or OverflowException)
        {
            throw ctx.Error($"paddings '{paddings.Name}': {e.Message}");
        }
        ctx.ExpectShape(ctx.Out(0), expected, "output");
        ctx.AllActivationsOfOneType(input, ctx.Out(0));
        if (input.DataType == DataType.Int8 && !SameQuantization(input, ctx.Out(0)))
            throw ctx.Error("int8 pad must keep the quantization of its input");
    }

    private static void ValidateTranspose(OpContext ctx)
    {
        ctx.Arity(2, 1);
        var input = ctx.In(0);
        var perm = ctx.In(1);
        var output = ctx.Out(0);
        if (!perm.IsConstant || perm.DataType != DataType.Int32 || perm.Shape.Length != 1 || perm.Shape[0] != input.Shape.Length)
            throw ctx.Error($"perm '{perm.Name}' must be a constant int32 [{input.Shape.Length}]");
        if (perm.Data!.Value.Length != input.Shape.Length * 4)
            throw ctx.Error($"perm '{perm.Name}' has {perm.Data.Value.Length} bytes of data");
        var p = new int[input.Shape.Length];
        for (int i = 0; i < p.Length; i++)
            p[i] = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(perm.Data.Value.Span.Slice(i * 4, 4));
        int[] expected;
        try
        {
            expected = EdgeMobileNet.Kernels.Reference.TransposeReference.OutputShape(input.Shape, p);
        }
        catch (ArgumentException e)
        {
            throw ctx.Error($"perm '{perm.Name}': {e.Message}");
        }
        ctx.ExpectShape(output, expected, "output");
        ctx.AllActivationsOfOneType(input, output);
        if (input.DataType == DataType.Int8 && !SameQuantization(input, output))
            throw ctx.Error("int8 transpose must keep the quantization of its input");
    }

    private static void ValidateAveragePool(OpContext ctx)
    {
        ctx.Arity(1, 1);
        var input = ctx.In(0);
        var output = ctx.Out(0);
        ctx.Rank(input, 4, "input");
        var a = ctx.Op.Attributes;
        ctx.Positive(a.StrideH, "stride h"); ctx.Positive(a.StrideW, "stride w");
        ctx.Positive(a.FilterH, "filter h"); ctx.Positive(a.FilterW, "filter w");
        ctx.NonNegative(a.PadTop, "pad top"); ctx.NonNegative(a.PadLeft, "pad left");
        ctx.NonNegative(a.PadBottom, "pad bottom"); ctx.NonNegative(a.PadRight, "pad right");
        if (a.PadTop >= a.FilterH || a.PadBottom >= a.FilterH || a.PadLeft >= a.FilterW || a.PadRight >= a.FilterW)
            throw ctx.Error("padding must be smaller than the pooling window (a window may not be all padding)");
        int oh = ConvGeometry.OutputSize(input.Shape[1], a.FilterH, a.StrideH, 1, a.PadTop, a.PadBottom);
        int ow = ConvGeometry.OutputSize(input.Shape[2], a.FilterW, a.StrideW, 1, a.PadLeft, a.PadRight);
        if (oh == 0 || ow == 0) throw ctx.Error($"window {a.FilterH}x{a.FilterW} does not fit input {input.ShapeText}");
        ctx.ExpectShape(output, [input.Shape[0], oh, ow, input.Shape[3]], "output");
        ctx.AllActivationsOfOneType(input, output);
        if (input.DataType == DataType.Int8 && !SameQuantization(input, output))
            throw ctx.Error("int8 average pool must keep the quantization of its input");
    }

    internal static bool SameQuantization(TensorDefinition a, TensorDefinition b) =>
        a.Quantization is { } qa && b.Quantization is { } qb &&
        qa.Scale == qb.Scale && qa.ZeroPoint == qb.ZeroPoint && !qa.IsPerChannel && !qb.IsPerChannel;

    private readonly struct OpContext(ModelDefinition model, OperatorDefinition op, int index, string sourceName)
    {
        public OperatorDefinition Op => op;

        public TensorDefinition In(int i) => model.Tensors[op.Inputs[i]];
        public TensorDefinition Out(int i) => model.Tensors[op.Outputs[i]];

        public ModelFormatException Error(string message) =>
            new($"{sourceName}: operator {index} '{op.Name}' ({op.Type}): {message}");

        public void CheckTensorIndex(int t)
        {
            if ((uint)t >= (uint)model.Tensors.Count)
                throw Error($"tensor index {t} is out of range (model has {model.Tensors.Count} tensors)");
        }

        public void Arity(int inputs, int outputs)
        {
            if (op.Inputs.Length != inputs || op.Outputs.Length != outputs)
                throw Error($"needs {inputs} input(s) and {outputs} output(s), has {op.Inputs.Length} and {op.Outputs.Length}");
        }

        public void Rank(TensorDefinition t, int rank, string what)
        {
            if (t.Shape.Length != rank) throw Error($"{what} '{t.Name}' {t.ShapeText} must have rank {rank}");
        }

        public void Positive(int value, string what)
        {
            if (value <= 0) throw Error($"{what} must be positive, is {value}");
        }

        public void NonNegative(int value, string what)
        {
            if (value < 0) throw Error($"{what} must not be negative, is {value}");
        }

        public void SameShape(TensorDefinition a, TensorDefinition b, string what)
        {
            if (!a.Shape.AsSpan().SequenceEqual(b.Shape)) throw Error($"{what} '{b.Name}' {b.ShapeText} must have shape {a.ShapeText}");
        }

        public void ExpectShape(TensorDefinition t, int[] expected, string what)
        {
            if (!t.Shape.AsSpan().SequenceEqual(expected))
                throw Error($"{what} '{t.Name}' has shape {t.ShapeText}; the operator computes [{string.Join("x", expected)}]");
        }

        public void Activation(TensorDefinition t, string what)
        {
            if (t.IsConstant) throw Error($"{what} '{t.Name}' must not be a constant");
        }

        public void Int8Activation(TensorDefinition t, string what)
        {
            Activation(t, what);
            if (t.DataType != DataType.Int8) throw Error($"{what} '{t.Name}' must be int8, is {t.DataType.ToShortName()}");
            if (t.Quantization is null || t.Quantization.IsPerChannel)
                throw Error($"{what} '{t.Name}' needs per-tensor quantization");
        }

        public void AllActivationsOfOneType(params TensorDefinition[] tensors)
        {
            var type = tensors[0].DataType;
            foreach (var t in tensors)
            {
                if (t.DataType != type) throw Error($"tensor '{t.Name}' is {t.DataType.ToShortName()}, expected {type.ToShortName()} like '{tensors[0].Name}'");
                if (type == DataType.Int8) Int8Activation(t, "tensor");
                else if (type != DataType.Float32) throw Error($"tensor '{t.Name}' has unsupported type {type.ToShortName()}");
            }
        }

        /// <summary>Dtype and quantization rules shared by Conv2D, DepthwiseConv2D and FullyConnected.</summary>
        public void ValidateWeightedOp(TensorDefinition input, TensorDefinition filter, TensorDefinition output,
            int outChannels, int channelAxis)
        {
            TensorDefinition? bias = op.Inputs.Length == 3 ? In(2) : null;
            if (bias is not null)
            {
                if (!bias.IsConstant) throw Error("bias must be a constant");
                if (bias.Shape.Length != 1 || bias.Shape[0] != outChannels)
                    throw Error($"bias '{bias.Name}' {bias.ShapeText} must have shape [{outChannels}]");
            }
            if (input.DataType == DataType.Float32)
            {
                AllActivationsOfOneType(input, output);
                if (filter.DataType != DataType.Float32) throw Error($"f32 operator with {filter.DataType.ToShortName()} filter");
                if (bias is not null && bias.DataType != DataType.Float32) throw Error($"f32 operator with {bias.DataType.ToShortName()} bias");
                return;
            }
            if (input.DataType != DataType.Int8) throw Error($"input type {input.DataType.ToShortName()} is not supported");
            Int8Activation(input, "input");
            Int8Activation(output, "output");
            if (filter.DataType != DataType.Int8 || filter.Quantization is null)
                throw Error($"int8 operator needs a quantized int8 filter, '{filter.Name}' is {filter.DataType.ToShortName()}");
            var fq = filter.Quantization;
            if (fq.IsPerChannel && (fq.Axis != channelAxis || fq.Scales.Length != outChannels))
                throw Error($"filter '{filter.Name}' per-channel quantization must be on axis {channelAxis} with {outChannels} scales, has axis {fq.Axis} with {fq.Scales.Length}");
            bool symmetric = fq.ZeroPoints.All(z => z == 0);
            if (!symmetric && (op.Type != OperatorType.FullyConnected || fq.IsPerChannel))
                throw Error($"filter '{filter.Name}' must be symmetric (zero point 0)");
            if (bias is not null && bias.DataType != DataType.Int32)
                throw Error($"int8 operator needs an int32 bias, '{bias.Name}' is {bias.DataType.ToShortName()}");
        }
    }
}
