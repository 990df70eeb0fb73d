using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Analysis;
using EdgeMobileNet.Graph.Runtime;

namespace EdgeMobileNet.Cli.Commands;

/// <summary>edgemobilenet info: per-layer operators, shapes, Mult-Adds and parameters, with totals.</summary>
public static class InfoCommand
{
    public static Command Create(CliContext cli)
    {
        var file = new Argument<string>("model") { Description = "The .emn model file" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (macs, params, layers, ...)" };
        var command = new Command("info", "Describe a model: per-layer table and totals") { file, json };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(file)!;
            using var model = LoadedModel.Open(path, isa: null);
            var stats = ModelStatistics.Compute(model.File.Model);
            cli.Out.Write(parse.GetValue(json)
                ? ToJson(model.File.Model, stats, model.Session)
                : ToTable(model.File.Model, stats, model.Session, model.File.FileLength));
            return ExitCodes.Success;
        });
        return command;
    }

    private static readonly LayerCategory[] Categories =
        [LayerCategory.Conv1x1, LayerCategory.DepthwiseConv, LayerCategory.Conv, LayerCategory.FullyConnected, LayerCategory.Other];

    public static string ToTable(ModelDefinition model, ModelStatisticsSummary stats, InferenceSession session, long fileBytes)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine(inv, $"model      {model.Name}");
        sb.AppendLine(inv, $"producer   {model.Producer}");
        foreach (int t in model.Inputs) sb.AppendLine(inv, $"input      {Describe(model.Tensors[t])}");
        foreach (int t in model.Outputs) sb.AppendLine(inv, $"output     {Describe(model.Tensors[t])}");
        if (model.InputContract is { } c) sb.AppendLine(inv, $"contract   {c}");
        sb.AppendLine(inv, $"labels     {model.Labels.Count} (offset {model.LabelOffset})");
        sb.AppendLine(inv, $"file       {fileBytes} bytes; activation arena {session.ArenaBytes} bytes (unplanned {session.UnplannedBytes})");
        sb.AppendLine();
        sb.AppendLine(inv, $"{"#",3}  {"operator",-18} {"name",-28} {"input",-18} {"output",-18} {"Mult-Adds",13} {"params",10}");
        foreach (var l in stats.Layers)
            sb.AppendLine(inv, $"{l.Index,3}  {l.Type,-18} {Truncate(l.Name, 28),-28} {l.InputShape,-18} {l.OutputShape,-18} {l.MultAdds,13:N0} {l.Parameters,10:N0}");
        sb.AppendLine();
        sb.AppendLine(inv, $"total      {stats.MultAdds,15:N0} Mult-Adds ({stats.MultAdds / 1e6:F1}M)   {stats.Parameters,12:N0} parameters ({stats.Parameters / 1e6:F3}M)");
        foreach (var cat in Categories)
        {
            sb.AppendLine(inv, $"  {cat,-15} {Percent(stats.MultAddsOf(cat), stats.MultAdds),7:F2}% of Mult-Adds  {Percent(stats.ParametersOf(cat), stats.Parameters),7:F2}% of parameters");
        }
        return sb.ToString();
    }

    public static string ToJson(ModelDefinition model, ModelStatisticsSummary stats, InferenceSession session)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("name", model.Name);
            w.WriteString("producer", model.Producer);
            w.WriteNumber("macs", stats.MultAdds);
            w.WriteNumber("params", stats.Parameters);
            w.WriteNumber("arenaBytes", session.ArenaBytes);
            w.WriteStartObject("split");
            foreach (var cat in Categories)
            {
                w.WriteStartObject(cat.ToString());
                w.WriteNumber("macs", stats.MultAddsOf(cat));
                w.WriteNumber("params", stats.ParametersOf(cat));
                w.WriteEndObject();
            }
            w.WriteEndObject();
            WriteTensors(w, "inputs", model, model.Inputs);
            WriteTensors(w, "outputs", model, model.Outputs);
            w.WriteStartArray("layers");
            foreach (var l in stats.Layers)
            {
                w.WriteStartObject();
                w.WriteNumber("index", l.Index);
                w.WriteString("op", l.Type.ToString());
                w.WriteString("name", l.Name);
                w.WriteString("category", l.Category.ToString());
                w.WriteString("input", l.InputShape);
                w.WriteString("output", l.OutputShape);
                w.WriteNumber("macs", l.MultAdds);
                w.WriteNumber("params", l.Parameters);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + Environment.NewLine;
    }

    private static void WriteTensors(Utf8JsonWriter w, string name, ModelDefinition model, List<int> tensors)
    {
        w.WriteStartArray(name);
        foreach (int t in tensors)
        {
            var tensor = model.Tensors[t];
            w.WriteStartObject();
            w.WriteString("name", tensor.Name);
            w.WriteString("dtype", tensor.DataType.ToShortName());
            w.WriteStartArray("shape");
            foreach (int d in tensor.Shape) w.WriteNumberValue(d);
            w.WriteEndArray();
            if (tensor.Quantization is { IsPerChannel: false } q)
            {
                w.WriteNumber("scale", q.Scale);
                w.WriteNumber("zeroPoint", q.ZeroPoint);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static string Describe(TensorDefinition t) =>
        $"{t.Name} {t.DataType.ToShortName()}{t.ShapeText}" + (t.Quantization is { } q ? $" ({q})" : "");

    private static double Percent(long part, long total) => total == 0 ? 0 : 100.0 * part / total;

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "~";
}
