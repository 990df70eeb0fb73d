using Google.FlatBuffers;

namespace EdgeMobileNet.Tests.Import;

/// <summary>
/// Writes small .tflite files with Google.FlatBuffers' FlatBufferBuilder, laid out like schema.fbs (version 3), so the
/// importer tests run without any file from outside the repository.
/// </summary>
internal sealed class TfliteTestBuilder
{
    public const sbyte TFloat32 = 0, TInt32 = 2, TInt8 = 9;

    private readonly List<TensorSpec> _tensors = [];
    private readonly List<OpSpec> _ops = [];

    public List<int> Inputs { get; } = [];
    public List<int> Outputs { get; } = [];

    /// <summary>Write the opcode only into builtin_code (deprecated_builtin_code absent, i.e. 0) instead of only into
    /// deprecated_builtin_code (as both upstream models do).</summary>
    public bool UseNewBuiltinCode { get; set; }

    public sealed record TensorSpec(string Name, sbyte Type, int[] Shape, byte[]? Data, float[]? Scales, long[]? ZeroPoints, int QuantizedDimension);

    public sealed record OpSpec(int Code, int[] Inputs, int[] Outputs, byte OptionsType, Func<FlatBufferBuilder, int>? Options);

    public int Tensor(string name, sbyte type, int[] shape, byte[]? data = null, float[]? scales = null, long[]? zeroPoints = null,
        int quantizedDimension = 0)
    {
        _tensors.Add(new TensorSpec(name, type, shape, data, scales, zeroPoints, quantizedDimension));
        return _tensors.Count - 1;
    }

    public int Int8(string name, int[] shape, float scale, int zeroPoint, sbyte[]? data = null) =>
        Tensor(name, TInt8, shape, data is null ? null : (byte[])(Array)data.Clone(), [scale], [zeroPoint]);

    public int Int32Const(string name, int[] values, float[]? scales = null) =>
        Tensor(name, TInt32, [values.Length], values.SelectMany(BitConverter.GetBytes).ToArray(), scales,
            scales is null ? null : new long[scales.Length]);

    public void Op(int code, int[] inputs, int[] outputs, byte optionsType = 0, Func<FlatBufferBuilder, int>? options = null) =>
        _ops.Add(new OpSpec(code, inputs, outputs, optionsType, options));

    // Options tables (field ids from schema.fbs).
    public static Func<FlatBufferBuilder, int> Conv(byte padding, int stride, sbyte activation) => b =>
    {
        b.StartTable(6);
        b.AddByte(0, padding, 0);
        b.AddInt(1, stride, 0);
        b.AddInt(2, stride, 0);
        b.AddSbyte(3, activation, 0);
        return b.EndTable();
    };

    public static Func<FlatBufferBuilder, int> Depthwise(byte padding, int stride, int multiplier, sbyte activation) => b =>
    {
        b.StartTable(7);
        b.AddByte(0, padding, 0);
        b.AddInt(1, stride, 0);
        b.AddInt(2, stride, 0);
        b.AddInt(3, multiplier, 0);
        b.AddSbyte(4, activation, 0);
        return b.EndTable();
    };

    public static Func<FlatBufferBuilder, int> Reducer(bool keepDims) => b =>
    {
        b.StartTable(1);
        b.AddBool(0, keepDims, false);
        return b.EndTable();
    };

    public static Func<FlatBufferBuilder, int> Softmax(float beta) => b =>
    {
        b.StartTable(1);
        b.AddFloat(0, beta, 0);
        return b.EndTable();
    };

    public static Func<FlatBufferBuilder, int> ActivationOnly(sbyte activation) => b =>
    {
        b.StartTable(1);
        b.AddSbyte(0, activation, 0);
        return b.EndTable();
    };

    public byte[] Build()
    {
        var b = new FlatBufferBuilder(1024);

        // Buffers: 0 is the empty sentinel, then one per constant tensor.
        var bufferOffsets = new List<int>();
        b.StartTable(1);
        bufferOffsets.Add(b.EndTable());
        var bufferOf = new int[_tensors.Count];
        for (int t = 0; t < _tensors.Count; t++)
        {
            if (_tensors[t].Data is not { } data) continue;
            b.StartVector(1, data.Length, 16);
            for (int i = data.Length - 1; i >= 0; i--) b.AddByte(data[i]);
            var vector = b.EndVector();
            b.StartTable(1);
            b.AddOffset(0, vector.Value, 0);
            bufferOf[t] = bufferOffsets.Count;
            bufferOffsets.Add(b.EndTable());
        }

        var tensorOffsets = new int[_tensors.Count];
        for (int t = 0; t < _tensors.Count; t++)
        {
            var s = _tensors[t];
            var name = b.CreateString(s.Name);
            var shape = IntVector(b, s.Shape);
            int quant = 0;
            if (s.Scales is { } scales)
            {
                b.StartVector(4, scales.Length, 4);
                for (int i = scales.Length - 1; i >= 0; i--) b.AddFloat(scales[i]);
                var scaleVector = b.EndVector();
                var zps = s.ZeroPoints ?? new long[scales.Length];
                b.StartVector(8, zps.Length, 8);
                for (int i = zps.Length - 1; i >= 0; i--) b.AddLong(zps[i]);
                var zpVector = b.EndVector();
                b.StartTable(7);
                b.AddOffset(2, scaleVector.Value, 0);
                b.AddOffset(3, zpVector.Value, 0);
                b.AddInt(6, s.QuantizedDimension, 0);
                quant = b.EndTable();
            }
            b.StartTable(5);
            b.AddOffset(0, shape, 0);
            b.AddSbyte(1, s.Type, 0);
            b.AddUint(2, (uint)bufferOf[t], 0);
            b.AddOffset(3, name.Value, 0);
            if (quant != 0) b.AddOffset(4, quant, 0);
            tensorOffsets[t] = b.EndTable();
        }

        var codeOffsets = new int[_ops.Count];
        var opOffsets = new int[_ops.Count];
        for (int i = 0; i < _ops.Count; i++)
        {
            var op = _ops[i];
            b.StartTable(4);
            if (UseNewBuiltinCode)
            {
                b.AddInt(3, op.Code, 0); // deprecated_builtin_code left at its default 0
            }
            else
            {
                b.AddSbyte(0, (sbyte)op.Code, 0);
            }
            b.AddInt(2, 1, 0);
            codeOffsets[i] = b.EndTable();

            int options = op.Options?.Invoke(b) ?? 0;
            var inputs = IntVector(b, op.Inputs);
            var outputs = IntVector(b, op.Outputs);
            b.StartTable(5);
            b.AddUint(0, (uint)i, 0);
            b.AddOffset(1, inputs, 0);
            b.AddOffset(2, outputs, 0);
            if (options != 0)
            {
                b.AddByte(3, op.OptionsType, 0);
                b.AddOffset(4, options, 0);
            }
            opOffsets[i] = b.EndTable();
        }

        var tensorsVector = TableVector(b, tensorOffsets);
        var subInputs = IntVector(b, [.. Inputs]);
        var subOutputs = IntVector(b, [.. Outputs]);
        var opsVector = TableVector(b, opOffsets);
        var graphName = b.CreateString("test");
        b.StartTable(5);
        b.AddOffset(0, tensorsVector, 0);
        b.AddOffset(1, subInputs, 0);
        b.AddOffset(2, subOutputs, 0);
        b.AddOffset(3, opsVector, 0);
        b.AddOffset(4, graphName.Value, 0);
        int subgraph = b.EndTable();

        var codesVector = TableVector(b, codeOffsets);
        var subgraphsVector = TableVector(b, [subgraph]);
        var description = b.CreateString("EdgeMobileNet test builder");
        var buffersVector = TableVector(b, [.. bufferOffsets]);
        b.StartTable(5);
        b.AddUint(0, 3, 0);
        b.AddOffset(1, codesVector, 0);
        b.AddOffset(2, subgraphsVector, 0);
        b.AddOffset(3, description.Value, 0);
        b.AddOffset(4, buffersVector, 0);
        int model = b.EndTable();
        b.Finish(model, "TFL3");
        return b.SizedByteArray();
    }

    private static int IntVector(FlatBufferBuilder b, int[] values)
    {
        b.StartVector(4, values.Length, 4);
        for (int i = values.Length - 1; i >= 0; i--) b.AddInt(values[i]);
        return b.EndVector().Value;
    }

    private static int TableVector(FlatBufferBuilder b, int[] tables)
    {
        b.StartVector(4, tables.Length, 4);
        for (int i = tables.Length - 1; i >= 0; i--) b.AddOffset(tables[i]);
        return b.EndVector().Value;
    }

    /// <summary>
    /// A small int8 model exercising most of the mapping: NCHW input [1,2,5,5] -> TRANSPOSE -> PAD -> CONV_2D (VALID,
    /// per-channel, RELU6) -> DEPTHWISE_CONV_2D (SAME, stride 2, multiplier 2) -> 1x1 CONV_2D without bias (RELU) ->
    /// ADD of the last two -> MEAN over H,W (keep_dims false, requantizing) -> FULLY_CONNECTED -> SOFTMAX.
    /// Without <paramref name="usePad"/> the first convolution uses SAME padding instead of PAD + VALID.
    /// </summary>
    public static TfliteTestBuilder SmallInt8Model(int seed = 7, bool usePad = true)
    {
        var rng = new Random(seed);
        sbyte[] Weights(int n) => Enumerable.Range(0, n).Select(_ => (sbyte)rng.Next(-127, 128)).ToArray();
        int[] Bias(int n) => Enumerable.Range(0, n).Select(_ => rng.Next(-2000, 2000)).ToArray();

        var m = new TfliteTestBuilder();
        int input = m.Int8("input", [1, 2, 5, 5], 0.02f, -3);
        int perm = m.Int32Const("perm", [0, 2, 3, 1]);
        int nhwc = m.Int8("nhwc", [1, 5, 5, 2], 0.02f, -3);
        int pads = m.Int32Const("pads", [0, 0, 1, 1, 1, 1, 0, 0]);
        int padded = m.Int8("padded", [1, 7, 7, 2], 0.02f, -3);
        int convW = m.Tensor("conv/w", TInt8, [4, 3, 3, 2], (byte[])(Array)Weights(72), [0.01f, 0.012f, 0.008f, 0.011f], [0, 0, 0, 0], 0);
        int convB = m.Int32Const("conv/b", Bias(4));
        int conv = m.Int8("conv", [1, 5, 5, 4], 0.05f, -128);
        int dwW = m.Tensor("dw/w", TInt8, [1, 3, 3, 8], (byte[])(Array)Weights(72),
            [0.01f, 0.02f, 0.01f, 0.015f, 0.01f, 0.02f, 0.012f, 0.01f], new long[8], 3);
        int dwB = m.Int32Const("dw/b", Bias(8));
        int dw = m.Int8("dw", [1, 3, 3, 8], 0.04f, 5);
        int pw2W = m.Tensor("pw2/w", TInt8, [8, 1, 1, 8], (byte[])(Array)Weights(64), [0.02f], [0], 0);
        int pw2 = m.Int8("pw2", [1, 3, 3, 8], 0.06f, -2);
        int sum = m.Int8("sum", [1, 3, 3, 8], 0.07f, 1);
        int axes = m.Int32Const("axes", [1, 2]);
        int mean = m.Int8("mean", [1, 8], 0.03f, -7);
        int fcW = m.Tensor("fc/w", TInt8, [3, 8], (byte[])(Array)Weights(24), [0.02f], [0], 0);
        int fcB = m.Int32Const("fc/b", Bias(3));
        int logits = m.Int8("logits", [1, 3], 0.1f, 4);
        int probs = m.Int8("probs", [1, 3], 1f / 256, -128);

        m.Op(39, [input, perm], [nhwc]);                                        // TRANSPOSE
        if (usePad)
        {
            m.Op(34, [nhwc, pads], [padded]);                                   // PAD (folded)
            m.Op(3, [padded, convW, convB], [conv], 1, Conv(1, 1, 3));          // CONV_2D VALID RELU6
        }
        else
        {
            m.Op(3, [nhwc, convW, convB], [conv], 1, Conv(0, 1, 3));            // CONV_2D SAME RELU6
        }
        m.Op(4, [conv, dwW, dwB], [dw], 2, Depthwise(0, 2, 2, 0));              // DEPTHWISE SAME stride 2, M=2
        m.Op(3, [dw, pw2W, -1], [pw2], 1, Conv(0, 1, 1));                       // CONV_2D 1x1 without bias, RELU
        m.Op(0, [dw, pw2], [sum], 11, ActivationOnly(0));                       // ADD
        m.Op(40, [sum, axes], [mean], 27, Reducer(false));                      // MEAN
        m.Op(9, [mean, fcW, fcB], [logits], 8, ActivationOnly(0));              // FULLY_CONNECTED
        m.Op(25, [logits], [probs], 9, Softmax(1f));                            // SOFTMAX
        m.Inputs.Add(input);
        m.Outputs.Add(probs);
        return m;
    }
}
