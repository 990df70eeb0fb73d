using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeMobileNet.Edge.Config;

/// <summary>
/// The `edgemobilenet run` configuration file (JSON, documented in docs/edge-runtime.md). Every field
/// is optional at parse time; <see cref="ConfigValidator"/> then reports all problems at once.
/// </summary>
public sealed class EdgeConfig
{
    public string? Model { get; set; }
    public string? Labels { get; set; }
    public int? LabelOffset { get; set; }
    public string? Isa { get; set; }
    /// <summary>"probabilities" (model ends in softmax), "logits" (softmax applied here), or "raw" (thresholds on raw outputs).</summary>
    public string? Scores { get; set; }
    public SourceConfig? Source { get; set; }
    public PreprocessConfig? Preprocess { get; set; }
    public GpioConfig? Gpio { get; set; }
    public List<RuleConfig>? Rules { get; set; }
    public LoggingConfig? Logging { get; set; }
}

public sealed class SourceConfig
{
    /// <summary>v4l2 | libcamera | image | folder | y4m</summary>
    public string? Type { get; set; }
    public string? Device { get; set; }
    public string? Path { get; set; }
    public int? Width { get; set; }
    public int? Height { get; set; }
    public int? Stride { get; set; }
    public double? Fps { get; set; }
    /// <summary>yuyv | mjpeg | nv12 | yuv420 | rgb24 | bgr24 | grey</summary>
    public string? PixelFormat { get; set; }
    /// <summary>limited | full (BT.601)</summary>
    public string? YuvRange { get; set; }
    public bool? Loop { get; set; }
    public int? TimeoutMs { get; set; }
    public int? Buffers { get; set; }
    public int? ReopenMaxBackoffMs { get; set; }
}

public sealed class PreprocessConfig
{
    /// <summary>crop | stretch | letterbox</summary>
    public string? Resize { get; set; }
}

public sealed class GpioConfig
{
    /// <summary>gpiod | sim (the command line's --gpio overrides)</summary>
    public string? Backend { get; set; }
    /// <summary>Default chip for rules: "auto" (the 40-pin header by label), "gpiochipN", a number, or a chip label.</summary>
    public string? Chip { get; set; }
}

public sealed class RuleConfig
{
    public string? Name { get; set; }
    public List<string>? Labels { get; set; }
    public List<int>? Classes { get; set; }
    public double? Threshold { get; set; }
    public double? OnThreshold { get; set; }
    public double? OffThreshold { get; set; }
    public int? OnFrames { get; set; }
    public int? OffFrames { get; set; }
    public int? Smoothing { get; set; }
    /// <summary>while-seen | pulse</summary>
    public string? Mode { get; set; }
    public int? PulseMs { get; set; }
    public int? MinOnMs { get; set; }
    public string? Chip { get; set; }
    public int? Line { get; set; }
    public bool? ActiveLow { get; set; }
    /// <summary>off | on: the logical state on exit, on faults and while the camera is lost.</summary>
    public string? SafeState { get; set; }
}

public sealed class LoggingConfig
{
    public double? IntervalSeconds { get; set; }
    /// <summary>verbose | debug | information | warning | error</summary>
    public string? Level { get; set; }
    public bool? Console { get; set; }
    public string? File { get; set; }
    /// <summary>infinite | year | month | day | hour | minute</summary>
    public string? RollingInterval { get; set; }
    public int? RetainedFileCountLimit { get; set; }
    public long? FileSizeLimitBytes { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(EdgeConfig))]
public sealed partial class EdgeConfigJsonContext : JsonSerializerContext;

/// <summary>A configuration file that cannot be used; <see cref="Problems"/> lists every problem found.</summary>
public sealed class ConfigException(string source, IReadOnlyList<string> problems)
    : Exception($"{source}: {problems.Count} problem(s) in the configuration:{Environment.NewLine}  - " + string.Join(Environment.NewLine + "  - ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

public static class EdgeConfigFile
{
    public static EdgeConfig Parse(string json, string sourceName)
    {
        try
        {
            return JsonSerializer.Deserialize(json, EdgeConfigJsonContext.Default.EdgeConfig)
                ?? throw new ConfigException(sourceName, ["the file holds null, not a configuration object"]);
        }
        catch (JsonException e)
        {
            string where = e.LineNumber is long line ? $" (line {line + 1}, byte {e.BytePositionInLine + 1})" : "";
            throw new ConfigException(sourceName, [$"not valid configuration JSON{where}: {e.Message}"]);
        }
    }

    public static EdgeConfig Load(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(path, [$"cannot read: {e.Message}"]);
        }
        return Parse(json, path);
    }
}
