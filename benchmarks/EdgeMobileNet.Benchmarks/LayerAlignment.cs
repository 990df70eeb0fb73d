namespace EdgeMobileNet.Benchmarks;

/// <summary>
/// One row of the per-layer comparison: our operator and the ORT nodes that compute it (<see cref="OrtNodes"/> of
/// them, <see cref="Ort"/> naming the slowest, <see cref="OrtMs"/> their sum), or a node of ORT's own.
/// </summary>
public readonly record struct LayerRow(string Ours, double OursMs, string Ort, double OrtMs, int OrtNodes)
{
    /// <summary>ORT's time over ours where both engines have this row (above 1: ours is faster), otherwise NaN.</summary>
    public double Ratio => OursMs > 0 && OrtMs > 0 ? OrtMs / OursMs : double.NaN;
}

/// <summary>
/// Lines up our operators with ONNX Runtime's profiled nodes by name. The exporter names every ONNX node after the
/// operator it comes from, and ORT keeps that name as the first part of a fused node's ("block_3/pointwise" becomes
/// "block_3/pointwise/conv__96/Conv_token_81"), but adds nodes of its own (QuantizeLinear of the input, layout
/// transposes), may split one of ours into several (a DequantizeLinear of weights it did not fold, then the
/// convolution) and runs some out of our order: listed side by side the two columns drift apart (an int8 V1 table
/// showed each ORT node one row below its layer; V2's started with block 16's weights).
/// </summary>
public static class LayerAlignment
{
    /// <summary>
    /// Rows in our execution order, one per operator with the nodes whose name starts with the operator's (the longest
    /// such operator name, followed by '/' or the end); each node no operator owns on a row of its own after the
    /// operator that owns the node ORT ran before it (first, if none).
    /// </summary>
    public static List<LayerRow> Align(IReadOnlyList<(string Name, double Ms)> ours, IReadOnlyList<(string Name, double Ms)> ort)
    {
        var owned = new List<int>[ours.Count];
        var placedAfter = new List<int>[ours.Count + 1]; // [0]: before the first operator; [i + 1]: after operator i
        for (int i = 0; i < owned.Length; i++) owned[i] = [];
        for (int i = 0; i < placedAfter.Length; i++) placedAfter[i] = [];
        int previousOwner = -1;
        for (int n = 0; n < ort.Count; n++)
        {
            int owner = Owner(ours, ort[n].Name);
            if (owner < 0) placedAfter[previousOwner + 1].Add(n);
            else
            {
                owned[owner].Add(n);
                previousOwner = owner;
            }
        }
        var rows = new List<LayerRow>(ours.Count + ort.Count);
        AddOwnRows(rows, ort, placedAfter[0]);
        for (int i = 0; i < ours.Count; i++)
        {
            var nodes = owned[i];
            if (nodes.Count == 0) rows.Add(new LayerRow(ours[i].Name, ours[i].Ms, "", double.NaN, 0));
            else
            {
                int slowest = nodes.MaxBy(n => ort[n].Ms);
                rows.Add(new LayerRow(ours[i].Name, ours[i].Ms, ort[slowest].Name, nodes.Sum(n => ort[n].Ms), nodes.Count));
            }
            AddOwnRows(rows, ort, placedAfter[i + 1]);
        }
        return rows;
    }

    private static void AddOwnRows(List<LayerRow> rows, IReadOnlyList<(string Name, double Ms)> ort, List<int> nodes)
    {
        foreach (int n in nodes) rows.Add(new LayerRow("", double.NaN, ort[n].Name, ort[n].Ms, 1));
    }

    /// <summary>The operator whose name is <paramref name="node"/>'s or its first part up to a '/' (the longest); -1 for none.</summary>
    private static int Owner(IReadOnlyList<(string Name, double Ms)> ours, string node)
    {
        int best = -1;
        for (int i = 0; i < ours.Count; i++)
        {
            string name = ours[i].Name;
            bool belongs = name.Length > 0 && node.StartsWith(name, StringComparison.Ordinal)
                && (node.Length == name.Length || node[name.Length] == '/');
            if (belongs && (best < 0 || name.Length > ours[best].Name.Length)) best = i;
        }
        return best;
    }
}
