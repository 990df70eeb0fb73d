using EdgeMobileNet.Import;
using EdgeMobileNet.Import.Onnx;
using Google.Protobuf;
using Xunit;

namespace EdgeMobileNet.Tests.Import;

/// <summary>Hand-written ModelProtos for the importer's rules: dynamic shapes, several offending nodes, fusion.</summary>
public sealed class OnnxHandBuiltTests
{
    [Fact]
    public void Dynamic_input_dimension_is_rejected_with_its_name()
    {
        var model = Model(
            [Input("x", ["N", 3, 4, 4])],
            [Node("Relu", ["x"], ["y"], "relu_0")],
            [Output("y", 4)]);
        var e = Assert.Throws<ImportException>(() => new OnnxImporter().Import(model, "dyn.onnx"));
        Assert.Contains("graph input 'x'", e.Message);
        Assert.Contains("dynamic", e.Message);
    }

    [Fact]
    public void Every_offending_node_is_listed_by_index_and_name()
    {
        var model = Model(
            [Input("x", [1, 4, 8, 8])],
            [
                Node("Relu", ["x"], ["a"], "ok_relu"),
                Node("LeakyRelu", ["a"], ["b"], "leaky"),
                Node("Conv", ["b", "w"], ["c"], "grouped", Ints("group", 2)),
                Node("Tanh", ["c"], ["d"], "tanh_1"),
            ],
            [Output("d", 4)],
            [Tensor("w", [4, 2, 1, 1], new float[8])]);
        var e = Assert.Throws<ImportException>(() => new OnnxImporter().Import(model, "bad.onnx"));
        Assert.Contains("node 1 'leaky' (LeakyRelu): unsupported operator", e.Message);
        Assert.Contains("node 3 'tanh_1' (Tanh): unsupported operator", e.Message);
        Assert.Contains("cannot import 2 item(s)", e.Message);
    }

    [Fact]
    public void Grouped_convolution_is_reported_clearly()
    {
        var model = Model(
            [Input("x", [1, 4, 8, 8])],
            [Node("Conv", ["x", "w"], ["c"], "grouped", Ints("group", 2))],
            [Output("c", 4)],
            [Tensor("w", [4, 2, 1, 1], new float[8])]);
        var e = Assert.Throws<ImportException>(() => new OnnxImporter().Import(model, "g.onnx"));
        Assert.Contains("node 0 'grouped' (Conv): group 2", e.Message);
    }

    [Fact]
    public void Conv_batchnorm_clip_fold_into_one_operator_with_the_right_values()
    {
        // x: [1,2,1,1] = (1, -2); w: 1x1 identity; BN: scale (2, 3), bias (0.5, 0), mean 0, var 1, eps 0; Clip(0, 6).
        var model = Model(
            [Input("x", [1, 2, 1, 1])],
            [
                Node("Conv", ["x", "w", "b"], ["c"], "conv"),
                Node("BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["n"], "bn", Float("epsilon", 0f)),
                Node("Clip", ["n", "lo", "hi"], ["y"], "relu6"),
            ],
            [Output("y", 4)],
            [
                Tensor("w", [2, 2, 1, 1], [1, 0, 0, 1]), Tensor("b", [2], [0, 0]), Tensor("gamma", [2], [2, 3]),
                Tensor("beta", [2], [0.5f, 0]), Tensor("mean", [2], [0, 0]), Tensor("var", [2], [1, 1]),
                Tensor("lo", [], [0]), Tensor("hi", [], [6]),
            ]);
        var imported = new OnnxImporter().Import(model, "fold.onnx").Model;
        var conv = Assert.Single(imported.Operators, o => o.Type == EdgeMobileNet.Format.Model.OperatorType.Conv2D);
        Assert.Equal(EdgeMobileNet.Format.Model.FusedActivation.Relu6, conv.Attributes.Activation);
        var y = OnnxTestSupport.RunEngine(imported, [4f, -2f]);
        Assert.Equal([6f, 0f], y); // min(2*4+0.5, 6) = 6; max(3*-2, 0) = 0
    }

    // ------------------------------------------------------------ a tiny ModelProto writer

    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var stream = new MemoryStream();
        using (var output = new CodedOutputStream(stream, leaveOpen: true))
        {
            write(output);
            output.Flush();
        }
        return stream.ToArray();
    }

    private static void Bytes(CodedOutputStream o, int field, byte[] value)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(value));
    }

    private static void Str(CodedOutputStream o, int field, string value)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteString(value);
    }

    private static void Varint(CodedOutputStream o, int field, long value)
    {
        o.WriteTag(field, WireFormat.WireType.Varint);
        o.WriteInt64(value);
    }

    private static byte[] Model(byte[][] inputs, byte[][] nodes, byte[][] outputs, byte[][]? initializers = null) => Message(o =>
    {
        Varint(o, 1, 8);
        Bytes(o, 7, Message(g =>
        {
            foreach (var n in nodes) Bytes(g, 1, n);
            Str(g, 2, "hand_built");
            foreach (var i in initializers ?? []) Bytes(g, 5, i);
            foreach (var i in inputs) Bytes(g, 11, i);
            foreach (var i in outputs) Bytes(g, 12, i);
        }));
        Bytes(o, 8, Message(s => { Str(s, 1, ""); Varint(s, 2, 13); }));
    });

    private static byte[] Input(string name, object[] dims) => Message(v =>
    {
        Str(v, 1, name);
        Bytes(v, 2, Message(t => Bytes(t, 1, Message(tt =>
        {
            Varint(tt, 1, 1);
            Bytes(tt, 2, Message(s =>
            {
                foreach (var d in dims)
                    Bytes(s, 1, Message(dim => { if (d is string p) Str(dim, 2, p); else Varint(dim, 1, System.Convert.ToInt64(d)); }));
            }));
        }))));
    });

    private static byte[] Output(string name, int rank) => Message(v =>
    {
        Str(v, 1, name);
        Bytes(v, 2, Message(t => Bytes(t, 1, Message(tt => Varint(tt, 1, 1)))));
        _ = rank;
    });

    private static byte[] Node(string op, string[] inputs, string[] outputs, string name, params byte[][] attributes) => Message(n =>
    {
        foreach (var i in inputs) Str(n, 1, i);
        foreach (var o in outputs) Str(n, 2, o);
        Str(n, 3, name);
        Str(n, 4, op);
        foreach (var a in attributes) Bytes(n, 5, a);
    });

    private static byte[] Ints(string name, params long[] values) => Message(a =>
    {
        Str(a, 1, name);
        if (values.Length == 1) { Varint(a, 3, values[0]); Varint(a, 20, 2); }
        else { foreach (var v in values) Varint(a, 8, v); Varint(a, 20, 7); }
    });

    private static byte[] Float(string name, float value) => Message(a =>
    {
        Str(a, 1, name);
        a.WriteTag(2, WireFormat.WireType.Fixed32);
        a.WriteFloat(value);
        Varint(a, 20, 1);
    });

    private static byte[] Tensor(string name, long[] dims, float[] values) => Message(t =>
    {
        foreach (var d in dims) Varint(t, 1, d);
        Varint(t, 2, 1);
        Str(t, 8, name);
        // float_data, packed
        t.WriteTag(4, WireFormat.WireType.LengthDelimited);
        t.WriteLength(values.Length * 4);
        foreach (var v in values) t.WriteFloat(v);
    });
}
