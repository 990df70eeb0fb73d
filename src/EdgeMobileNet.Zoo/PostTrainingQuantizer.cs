using System.Runtime.InteropServices;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Runtime;

namespace EdgeMobileNet.Zoo;

/// <summary>
/// Turns an fp32 model into a fully int8 one the way TFLite's post-training quantization does:
/// activations asymmetric int8 with ranges observed on calibration inputs, convolution weights
/// symmetric int8 per output channel, fully connected weights symmetric per tensor, biases int32 at
/// scale inputScale * weightScale. The graph input becomes int8 (the input contract quantizes pixels
/// straight into it) and the softmax output uses TFLite's fixed 1/256, -128.
/// </summary>
public static class PostTrainingQuantizer
{
    public static ModelDefinition Quantize(ModelDefinition f32, IEnumerable<float[]> calibrationInputs)
    {
        var ranges = ObserveRanges(f32, calibrationInputs);
        var q = new ModelDefinition
        {
            Name = f32.Name + "_int8",
            Producer = f32.Producer + "; int8 post-training quantization",
            InputContract = f32.InputContract,
            LabelOffset = f32.LabelOffset,
        };
        q.Labels.AddRange(f32.Labels);
        q.Inputs.AddRange(f32.Inputs);
        q.Outputs.AddRange(f32.Outputs);

        var activationQuant = new QuantizationInfo?[f32.Tensors.Count];
        foreach (int t in f32.Inputs) activationQuant[t] = FromRange(ranges[t].Min, ranges[t].Max);
        foreach (var op in f32.Operators) AssignOutputQuantization(op, ranges, activationQuant);

        var tensors = new TensorDefinition?[f32.Tensors.Count];
        for (int t = 0; t < f32.Tensors.Count; t++)
        {
            var src = f32.Tensors[t];
            if (!src.IsConstant)
                tensors[t] = new TensorDefinition(src.Name, DataType.Int8, src.Shape,
                    activationQuant[t] ?? throw new InvalidOperationException($"tensor '{src.Name}' got no range"));
        }
        foreach (var op in f32.Operators)
        {
            if (op.Type is OperatorType.Conv2D or OperatorType.DepthwiseConv2D or OperatorType.FullyConnected)
                QuantizeWeights(f32, op, tensors, activationQuant[op.Inputs[0]]!);
            q.Operators.Add(new OperatorDefinition(op.Type, op.Inputs, op.Outputs, op.Attributes, op.Name));
        }
        for (int t = 0; t < tensors.Length; t++)
            q.Tensors.Add(tensors[t] ?? throw new InvalidOperationException($"constant '{f32.Tensors[t].Name}' is used by no weighted operator"));
        return q;
    }

    /// <summary>Deterministic smooth random images in [-1, 1] (gradients plus noise), NHWC.</summary>
    public static IEnumerable<float[]> SyntheticCalibration(ModelDefinition model, int count, int seed)
    {
        var shape = model.Tensors[model.Inputs[0]].Shape;
        int h = shape[1], w = shape[2], c = shape[3];
        var random = new SeededWeights(seed);
        for (int n = 0; n < count; n++)
        {
            var image = new float[h * w * c];
            var gx = new float[c];
            var gy = new float[c];
            var offset = new float[c];
            for (int k = 0; k < c; k++)
            {
                gx[k] = random.NextUniform(-1, 1);
                gy[k] = random.NextUniform(-1, 1);
                offset[k] = random.NextUniform(-0.5f, 0.5f);
            }
            for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++)
            {
                float v = offset[k] + gx[k] * x / w + gy[k] * y / h + 0.3f * random.NextUniform(-1, 1);
                image[(y * w + x) * c + k] = Math.Clamp(v, -1f, 1f);
            }
            yield return image;
        }
    }

    private static (float Min, float Max)[] ObserveRanges(ModelDefinition f32, IEnumerable<float[]> inputs)
    {
        var ranges = new (float Min, float Max)[f32.Tensors.Count];
        Array.Fill(ranges, (float.PositiveInfinity, float.NegativeInfinity));
        using var session = InferenceSession.Create(f32, new SessionOptions { SourceName = f32.Name });
        int observed = 0;
        foreach (var input in inputs)
        {
            input.CopyTo(session.Input<float>(0));
            Observe(ranges, f32.Inputs[0], session.Input<float>(0));
            session.RunObserved(i =>
            {
                foreach (int t in f32.Operators[i].Outputs)
                    Observe(ranges, t, MemoryMarshal.Cast<byte, float>(session.TensorBytes(t)));
            });
            observed++;
        }
        if (observed == 0) throw new ArgumentException("calibration needs at least one input", nameof(inputs));
        return ranges;
    }

    private static void Observe((float Min, float Max)[] ranges, int tensor, ReadOnlySpan<float> values)
    {
        var (min, max) = ranges[tensor];
        foreach (float v in values)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        ranges[tensor] = (min, max);
    }

    /// <summary>Output quantization per operator: pass-through operators keep their input's.</summary>
    private static void AssignOutputQuantization(OperatorDefinition op, (float Min, float Max)[] ranges,
        QuantizationInfo?[] quant)
    {
        int output = op.Outputs[0];
        quant[output] = op.Type switch
        {
            OperatorType.Reshape or OperatorType.AveragePool2D or OperatorType.GlobalAveragePool => quant[op.Inputs[0]],
            OperatorType.Softmax => QuantizationInfo.PerTensor(1f / 256, -128),
            _ => FromRange(ranges[output].Min, ranges[output].Max),
        };
    }

    /// <summary>Asymmetric int8 for a real range, widened to include 0 so that zero is exact.</summary>
    public static QuantizationInfo FromRange(float min, float max)
    {
        min = Math.Min(min, 0f);
        max = Math.Max(max, 0f);
        if (max - min < 1e-6f) max = min + 1e-6f;
        float scale = (max - min) / 255f;
        int zeroPoint = (int)Math.Clamp(Math.Round(-128 - min / scale, MidpointRounding.AwayFromZero), -128, 127);
        return QuantizationInfo.PerTensor(scale, zeroPoint);
    }

    private static void QuantizeWeights(ModelDefinition f32, OperatorDefinition op, TensorDefinition?[] tensors,
        QuantizationInfo inputQuant)
    {
        var filter = f32.Tensors[op.Inputs[1]];
        var w = MemoryMarshal.Cast<byte, float>(filter.Data!.Value.Span);
        // Channel axis: 0 for Conv2D [O,KH,KW,I] and per-tensor FullyConnected, 3 for depthwise [1,KH,KW,C].
        bool depthwise = op.Type == OperatorType.DepthwiseConv2D;
        bool perChannel = op.Type != OperatorType.FullyConnected;
        int channels = perChannel ? (depthwise ? filter.Shape[3] : filter.Shape[0]) : 1;
        int perChannelSize = w.Length / channels;
        Func<int, int> channelOf = !perChannel ? _ => 0 : depthwise ? i => i % channels : i => i / perChannelSize;

        var maxAbs = new float[channels];
        for (int i = 0; i < w.Length; i++) maxAbs[channelOf(i)] = Math.Max(maxAbs[channelOf(i)], Math.Abs(w[i]));
        var scales = maxAbs.Select(m => m > 0 ? m / 127f : 1f).ToArray();
        var qw = new sbyte[w.Length];
        for (int i = 0; i < w.Length; i++)
            qw[i] = (sbyte)Math.Clamp(Math.Round(w[i] / scales[channelOf(i)], MidpointRounding.AwayFromZero), -127, 127);
        var quant = new QuantizationInfo(scales, new int[channels], perChannel ? (depthwise ? 3 : 0) : -1);
        tensors[op.Inputs[1]] = new TensorDefinition(filter.Name, DataType.Int8, filter.Shape, quant,
            MemoryMarshal.AsBytes(qw.AsSpan()).ToArray());

        if (op.Inputs.Length < 3) return;
        var biasDef = f32.Tensors[op.Inputs[2]];
        var bias = MemoryMarshal.Cast<byte, float>(biasDef.Data!.Value.Span);
        var qb = new int[bias.Length];
        for (int c = 0; c < bias.Length; c++)
        {
            double scale = (double)inputQuant.Scale * scales[perChannel ? c : 0];
            qb[c] = (int)Math.Clamp(Math.Round(bias[c] / scale, MidpointRounding.AwayFromZero), int.MinValue, int.MaxValue);
        }
        var biasScales = scales.Select(s => inputQuant.Scale * s).ToArray();
        tensors[op.Inputs[2]] = new TensorDefinition(biasDef.Name, DataType.Int32, biasDef.Shape,
            new QuantizationInfo(biasScales, new int[biasScales.Length], perChannel ? 0 : -1),
            MemoryMarshal.AsBytes(qb.AsSpan()).ToArray());
    }
}
