using EdgeMobileNet.Benchmarks;
using Xunit;

namespace EdgeMobileNet.Tests.Benchmarks;

public class LayerAlignmentTests
{
    private static List<(string, double)> Ours(params string[] names) => names.Select((n, i) => (n, 1.0 + i)).ToList();

    [Fact]
    public void OrtsOwnNodesGetRowsOfTheirOwnWhereTheyRan()
    {
        var ours = Ours("conv_0", "block_1/depthwise", "predictions");
        var ort = new List<(string, double)>
        {
            ("input_q/QuantizeLinear", 0.1), ("Transpose", 0.2), ("conv_0/conv__12/Conv_token_63", 2.0),
            ("block_1/depthwise/conv__26/Conv_token_66", 1.0), ("Transpose_token_143", 0.3), ("predictions/softmax__400/Softmax", 0.5),
        };
        var rows = LayerAlignment.Align(ours, ort);
        Assert.Equal(["", "", "conv_0", "block_1/depthwise", "", "predictions"], rows.Select(r => r.Ours));
        Assert.Equal(["input_q/QuantizeLinear", "Transpose", "conv_0/conv__12/Conv_token_63", "block_1/depthwise/conv__26/Conv_token_66",
            "Transpose_token_143", "predictions/softmax__400/Softmax"], rows.Select(r => r.Ort));
        Assert.Equal(2.0, rows[2].Ratio); // ORT 2.0 ms over our 1.0
        Assert.Equal(0.5, rows[3].Ratio);
        Assert.True(double.IsNaN(rows[0].Ratio));
        Assert.True(double.IsNaN(rows[0].OursMs));
    }

    [Fact]
    public void ALayersNodesAreSummedWhereverOrtRanThem()
    {
        // ORT ran block_2's weight dequantization before everything else, and split block_2 into two nodes.
        var ours = Ours("block_1/project", "block_2/expand", "block_3/expand");
        var ort = new List<(string, double)>
        {
            ("block_2/expand/weights__17/DequantizeLinear", 0.25), ("block_1/project/conv__5/Conv_token_9", 0.5),
            ("block_2/expand/conv__20/Conv", 0.75), ("block_3/expand/conv__30/Conv_token_12", 1.5),
        };
        var rows = LayerAlignment.Align(ours, ort);
        Assert.Equal(["block_1/project", "block_2/expand", "block_3/expand"], rows.Select(r => r.Ours));
        Assert.Equal(("block_2/expand/conv__20/Conv", 1.0, 2), (rows[1].Ort, rows[1].OrtMs, rows[1].OrtNodes)); // the slowest named, the sum timed
        Assert.Equal(("block_1/project/conv__5/Conv_token_9", 0.5, 1), (rows[0].Ort, rows[0].OrtMs, rows[0].OrtNodes));
        Assert.Equal(0.5, rows[1].Ratio); // 1.0 ms over our 2.0
    }

    [Fact]
    public void ANodeBelongsToTheLongestWholeNamePartOnly()
    {
        var ours = Ours("block_1", "block_1/pointwise", "block_10/pointwise", "logits");
        var ort = new List<(string, double)>
        {
            ("block_10/pointwise/conv__9/Conv", 1.0), ("block_1/pointwise/conv__3/Conv", 1.0), ("block_1", 1.0), ("logitsX/Gemm", 1.0),
        };
        var rows = LayerAlignment.Align(ours, ort);
        Assert.Equal("block_1", rows[0].Ours);
        Assert.Equal("block_1", rows[0].Ort); // a node named exactly as the operator
        // "logitsX" is not "logits" followed by a '/': no owner, so a row of its own after block_1's (the node ORT ran before it).
        Assert.Equal(("", "logitsX/Gemm"), (rows[1].Ours, rows[1].Ort));
        Assert.Equal(("block_1/pointwise", "block_1/pointwise/conv__3/Conv"), (rows[2].Ours, rows[2].Ort));
        Assert.Equal(("block_10/pointwise", "block_10/pointwise/conv__9/Conv"), (rows[3].Ours, rows[3].Ort));
        Assert.Equal(("logits", "", 0), (rows[4].Ours, rows[4].Ort, rows[4].OrtNodes));
        Assert.Equal(5, rows.Count);
    }

    [Fact]
    public void WithoutOrtEveryOperatorHasItsRow()
    {
        var rows = LayerAlignment.Align(Ours("a", "b"), []);
        Assert.Equal(["a", "b"], rows.Select(r => r.Ours));
        Assert.All(rows, r => Assert.Equal(("", 0), (r.Ort, r.OrtNodes)));
        Assert.All(rows, r => Assert.True(double.IsNaN(r.Ratio)));
    }
}
