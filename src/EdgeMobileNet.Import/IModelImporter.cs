using EdgeMobileNet.Format.Model;

namespace EdgeMobileNet.Import;

/// <summary>Converts a model file of another framework into a <see cref="ModelDefinition"/>.</summary>
/// <remarks>
/// An importer treats its input as hostile: every failure, whether a malformed file or content the engine cannot
/// run, is an <see cref="ImportException"/> with one clear message (for unsupported operators, every offending
/// operator by index and name). An importer never writes files.
/// </remarks>
public interface IModelImporter
{
    /// <summary>Short name of the source format ("TFLite", "ONNX").</summary>
    string FormatName { get; }

    /// <summary>Converts <paramref name="bytes"/>; <paramref name="sourceName"/> names the source in messages.</summary>
    ImportResult Import(byte[] bytes, string sourceName);
}

/// <summary>The imported model and what the importer found.</summary>
public sealed record ImportResult(ModelDefinition Model, ImportSummary Summary);

/// <summary>Inputs, outputs, operators and quantization of a source model, for the user.</summary>
public sealed class ImportSummary
{
    public string SourceFormat { get; init; } = string.Empty;
    public List<string> Inputs { get; } = [];
    public List<string> Outputs { get; } = [];

    /// <summary>Source operator name to how often it occurs.</summary>
    public SortedDictionary<string, int> SourceOperators { get; } = new(StringComparer.Ordinal);

    /// <summary>Notes on rewrites (folded pads, inserted reshapes).</summary>
    public List<string> Notes { get; } = [];

    /// <summary>"int8 per-channel", "int8 per-tensor", "fp32" or a mix.</summary>
    public string Quantization { get; set; } = string.Empty;

    public int SourceOperatorCount { get; set; }

    public IEnumerable<string> Lines()
    {
        yield return $"format: {SourceFormat}";
        foreach (var i in Inputs) yield return $"input: {i}";
        foreach (var o in Outputs) yield return $"output: {o}";
        yield return $"operators: {SourceOperatorCount} ({string.Join(", ", SourceOperators.Select(kv => $"{kv.Value} {kv.Key}"))})";
        yield return $"quantization: {Quantization}";
        foreach (var n in Notes) yield return $"note: {n}";
    }
}

/// <summary>The source model cannot be imported; the message says why (all problems found, one line each).</summary>
public sealed class ImportException(string message) : Exception(message);
