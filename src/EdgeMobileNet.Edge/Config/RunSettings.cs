using EdgeMobileNet.Edge.Frames;
using EdgeMobileNet.Edge.Imaging;
using EdgeMobileNet.Edge.Rules;

namespace EdgeMobileNet.Edge.Config;

public enum SourceType { V4l2, Libcamera, Image, Folder, Y4m }

public enum ScoreMode
{
    /// <summary>The model's output already holds probabilities (ends in softmax).</summary>
    Probabilities,
    /// <summary>The output holds logits; softmax is applied before the rules.</summary>
    Logits,
    /// <summary>Thresholds compare against the dequantized outputs as they are.</summary>
    Raw,
}

public sealed record SourceSettings(
    SourceType Type, string Location, int Width, int Height, int Stride, double Fps, PixelFormat PixelFormat,
    YuvRange Range, bool Loop, int TimeoutMs, int Buffers, int ReopenMaxBackoffMs);

public sealed record LoggingSettings(
    double IntervalSeconds, string Level, bool Console, string? File, string RollingInterval,
    int? RetainedFileCountLimit, long? FileSizeLimitBytes);

/// <summary>A validated configuration with paths resolved and rules bound to class indices.</summary>
public sealed record RunSettings(
    string ModelPath, string? Isa, ScoreMode Scores, SourceSettings Source, ResizeMode Resize,
    string GpioBackend, string GpioChip, IReadOnlyList<RuleDefinition> Rules, LoggingSettings Logging);

/// <summary>What validation needs to know about the model.</summary>
public sealed record ModelFacts(int ClassCount, Func<int, string?> LabelOf);
