using System.Globalization;
using EdgeMobileNet.Edge.Frames;
using EdgeMobileNet.Edge.Imaging;
using EdgeMobileNet.Edge.Rules;

namespace EdgeMobileNet.Edge.Config;

/// <summary>
/// Checks a configuration and reports every problem, each naming the field (e.g. "rules[1].line"), in
/// one <see cref="ConfigException"/>. Relative paths are resolved against the configuration file's folder.
/// </summary>
public static class ConfigValidator
{
    private static readonly string[] SourceTypes = ["v4l2", "libcamera", "image", "folder", "y4m"];

    /// <summary>Validates without the model (paths, ranges, enumerations). Returns the model path (resolved) if valid.</summary>
    public static RunSettings Validate(EdgeConfig config, string configDirectory, Func<string, ModelFacts>? loadModel, string sourceName)
    {
        var problems = new List<string>();
        string Resolve(string p) => Path.IsPathRooted(p) ? p : Path.GetFullPath(Path.Combine(configDirectory, p));

        // Model.
        string modelPath = "";
        ModelFacts? facts = null;
        if (string.IsNullOrWhiteSpace(config.Model)) problems.Add("model: missing (path to the .emn model file)");
        else
        {
            modelPath = Resolve(config.Model);
            if (!File.Exists(modelPath)) problems.Add($"model: file '{modelPath}' not found");
            else if (loadModel is not null)
            {
                try
                {
                    facts = loadModel(modelPath);
                }
                catch (Exception e)
                {
                    problems.Add($"model: '{modelPath}' cannot be used: {e.Message}");
                }
            }
        }

        var scores = ScoreMode.Probabilities;
        switch (config.Scores)
        {
            case null or "probabilities": break;
            case "logits": scores = ScoreMode.Logits; break;
            case "raw": scores = ScoreMode.Raw; break;
            default: problems.Add($"scores: '{config.Scores}' is not one of probabilities, logits, raw"); break;
        }

        // Labels.
        List<string>? labels = null;
        int labelOffset = 0;
        if (config.LabelOffset is int lo && lo < 0) problems.Add($"labelOffset: {lo} is negative");
        if (config.Labels is { } labelsPath)
        {
            string path = Resolve(labelsPath);
            if (!File.Exists(path)) problems.Add($"labels: file '{path}' not found");
            else
            {
                labels = File.ReadAllLines(path).Select(l => l.Trim()).ToList();
                while (labels.Count > 0 && labels[^1].Length == 0) labels.RemoveAt(labels.Count - 1);
                if (facts is not null)
                {
                    int classes = facts.ClassCount;
                    if (config.LabelOffset is int offset)
                    {
                        if (offset >= 0 && offset + labels.Count > classes)
                            problems.Add($"labels: {labels.Count} labels at labelOffset {offset} do not fit the model's {classes} outputs");
                        labelOffset = Math.Max(0, offset);
                    }
                    else if (labels.Count != classes)
                    {
                        problems.Add(labels.Count == classes - 1
                            ? $"labels: {labels.Count} labels for a model with {classes} outputs (is output 0 'background'? then set \"labelOffset\": 1)"
                            : $"labels: {labels.Count} labels for a model with {classes} outputs (set \"labelOffset\" if this is intended)");
                    }
                }
            }
        }
        else if (config.LabelOffset is not null) problems.Add("labelOffset: given without a labels file");

        var source = ValidateSource(config.Source, Resolve, problems);

        var resize = ResizeMode.Crop;
        switch (config.Preprocess?.Resize)
        {
            case null or "crop": break;
            case "stretch": resize = ResizeMode.Stretch; break;
            case "letterbox": resize = ResizeMode.Letterbox; break;
            default: problems.Add($"preprocess.resize: '{config.Preprocess.Resize}' is not one of crop, stretch, letterbox"); break;
        }

        string backend = config.Gpio?.Backend ?? "gpiod";
        if (backend is not ("gpiod" or "sim")) problems.Add($"gpio.backend: '{backend}' is not one of gpiod, sim");
        string defaultChip = config.Gpio?.Chip ?? "auto";
        if (defaultChip.Length == 0) problems.Add("gpio.chip: empty");

        var rules = new List<RuleDefinition>();
        if (config.Rules is null || config.Rules.Count == 0) problems.Add("rules: missing or empty (at least one rule drives a GPIO line)");
        else
        {
            var usedLines = new Dictionary<(string, int), string>();
            for (int i = 0; i < config.Rules.Count; i++)
            {
                var rule = ValidateRule(config.Rules[i], i, defaultChip, facts, labels, labelOffset, scores, problems);
                if (rule is null) continue;
                if (usedLines.TryGetValue((rule.Chip, rule.Line), out string? other))
                    problems.Add($"rules[{i}].line: line {rule.Line} on chip '{rule.Chip}' is already driven by rule '{other}'");
                else usedLines[(rule.Chip, rule.Line)] = rule.Name;
                rules.Add(rule);
            }
        }

        var logging = ValidateLogging(config.Logging, Resolve, problems);

        if (problems.Count > 0) throw new ConfigException(sourceName, problems);
        return new RunSettings(modelPath, config.Isa, scores, source!, resize, backend, defaultChip, rules, logging);
    }

    private static SourceSettings? ValidateSource(SourceConfig? s, Func<string, string> resolve, List<string> problems)
    {
        if (s is null)
        {
            problems.Add("source: missing (type v4l2, libcamera, image, folder or y4m)");
            return null;
        }
        int before = problems.Count;
        var type = SourceType.V4l2;
        int typeIndex = Array.IndexOf(SourceTypes, s.Type);
        if (typeIndex < 0) problems.Add(s.Type is null ? "source.type: missing (v4l2, libcamera, image, folder or y4m)" : $"source.type: '{s.Type}' is not one of {string.Join(", ", SourceTypes)}");
        else type = (SourceType)typeIndex;

        string location = "";
        if (typeIndex >= 0)
        {
            if (type == SourceType.V4l2) location = s.Device ?? "/dev/video0";
            else if (type == SourceType.Libcamera) location = s.Path ?? "-";
            else if (s.Path is null) problems.Add($"source.path: required for a {s.Type} source");
            else
            {
                location = resolve(s.Path);
                bool exists = type == SourceType.Folder ? Directory.Exists(location) : File.Exists(location);
                if (!exists) problems.Add($"source.path: {(type == SourceType.Folder ? "folder" : "file")} '{location}' not found");
            }
        }

        var format = PixelFormat.Yuyv;
        if (s.PixelFormat is not null)
        {
            if (!TryParsePixelFormat(s.PixelFormat, out format))
                problems.Add($"source.pixelFormat: '{s.PixelFormat}' is not one of yuyv, mjpeg, nv12, yuv420, rgb24, bgr24, grey");
        }
        else if (type == SourceType.Libcamera) format = PixelFormat.I420;
        if (type == SourceType.Libcamera && s.PixelFormat is not null && format != PixelFormat.I420)
            problems.Add("source.pixelFormat: libcamera sources read yuv420 (rpicam-vid --codec yuv420)");

        int width = s.Width ?? (type == SourceType.V4l2 ? 640 : 0);
        int height = s.Height ?? (type == SourceType.V4l2 ? 480 : 0);
        if (type == SourceType.Libcamera && (s.Width is null || s.Height is null))
            problems.Add("source.width/height: required for a libcamera source (the raw stream has no header)");
        if (s.Width is int w && (w < 2 || w > 8192)) problems.Add($"source.width: {w} is outside 2..8192");
        if (s.Height is int h && (h < 2 || h > 8192)) problems.Add($"source.height: {h} is outside 2..8192");
        int stride = s.Stride ?? 0;
        if (s.Stride is int st && st < width) problems.Add($"source.stride: {st} is less than the width {width}");
        double fps = s.Fps ?? (type == SourceType.V4l2 ? 30 : 0);
        if (s.Fps is double f && (f <= 0 || f > 1000 || double.IsNaN(f))) problems.Add($"source.fps: {f} is outside (0, 1000]");
        var range = YuvRange.Limited;
        switch (s.YuvRange)
        {
            case null or "limited": break;
            case "full": range = YuvRange.Full; break;
            default: problems.Add($"source.yuvRange: '{s.YuvRange}' is not limited or full"); break;
        }
        int timeout = s.TimeoutMs ?? 2000;
        if (timeout < 10 || timeout > 600_000) problems.Add($"source.timeoutMs: {timeout} is outside 10..600000");
        int buffers = s.Buffers ?? 4;
        if (buffers < 2 || buffers > 32) problems.Add($"source.buffers: {buffers} is outside 2..32");
        int backoff = s.ReopenMaxBackoffMs ?? 10_000;
        if (backoff < 100) problems.Add($"source.reopenMaxBackoffMs: {backoff} is below 100");
        if (problems.Count > before) return null;
        return new SourceSettings(type, location, width, height, stride, fps, format, range, s.Loop ?? false, timeout, buffers, backoff);
    }

    public static bool TryParsePixelFormat(string text, out PixelFormat format)
    {
        switch (text.ToLowerInvariant())
        {
            case "yuyv": format = PixelFormat.Yuyv; return true;
            case "mjpeg" or "mjpg": format = PixelFormat.Mjpeg; return true;
            case "nv12": format = PixelFormat.Nv12; return true;
            case "yuv420" or "i420": format = PixelFormat.I420; return true;
            case "rgb24": format = PixelFormat.Rgb24; return true;
            case "bgr24": format = PixelFormat.Bgr24; return true;
            case "grey" or "gray": format = PixelFormat.Grey; return true;
            default: format = default; return false;
        }
    }

    private static RuleDefinition? ValidateRule(RuleConfig r, int i, string defaultChip, ModelFacts? facts, List<string>? labels,
        int labelOffset, ScoreMode scores, List<string> problems)
    {
        string at = $"rules[{i}]";
        int before = problems.Count;
        string name = r.Name ?? $"rule{i}";
        if (r.Name is { Length: 0 }) problems.Add($"{at}.name: empty");

        var classes = new List<int>();
        if ((r.Labels is null || r.Labels.Count == 0) && (r.Classes is null || r.Classes.Count == 0))
            problems.Add($"{at}: names no classes (give \"labels\" or \"classes\")");
        foreach (int c in r.Classes ?? [])
        {
            if (c < 0 || (facts is not null && c >= facts.ClassCount))
                problems.Add($"{at}.classes: class {c} is outside the model's {(facts is null ? "outputs" : $"0..{facts.ClassCount - 1}")}");
            else classes.Add(c);
        }
        foreach (string label in r.Labels ?? [])
        {
            if (labels is not null)
            {
                int index = labels.FindIndex(l => string.Equals(l, label, StringComparison.OrdinalIgnoreCase));
                if (index < 0) problems.Add($"{at}.labels: '{label}' is not in the labels file");
                else classes.Add(index + labelOffset);
            }
            else if (facts is not null)
            {
                int found = -1;
                for (int c = 0; c < facts.ClassCount && found < 0; c++)
                    if (string.Equals(facts.LabelOf(c), label, StringComparison.OrdinalIgnoreCase)) found = c;
                if (found < 0) problems.Add($"{at}.labels: '{label}' is not a label of the model (give a labels file or use \"classes\")");
                else classes.Add(found);
            }
        }

        double on = r.OnThreshold ?? r.Threshold ?? double.NaN;
        if (r.OnThreshold is null && r.Threshold is null) problems.Add($"{at}.onThreshold: missing (or give \"threshold\")");
        else if (r.OnThreshold is not null && r.Threshold is not null) problems.Add($"{at}: give either \"threshold\" or \"onThreshold\", not both");
        double off = r.OffThreshold ?? on;
        bool bounded = scores != ScoreMode.Raw;
        if (!double.IsNaN(on) && bounded && (on < 0 || on > 1)) problems.Add($"{at}.onThreshold: {Fmt(on)} is outside 0..1 (scores are probabilities)");
        if (r.OffThreshold is double o)
        {
            if (bounded && (o < 0 || o > 1)) problems.Add($"{at}.offThreshold: {Fmt(o)} is outside 0..1");
            if (!double.IsNaN(on) && o > on) problems.Add($"{at}.offThreshold: {Fmt(o)} is above onThreshold {Fmt(on)} (hysteresis needs off <= on)");
        }
        int onFrames = r.OnFrames ?? 1, offFrames = r.OffFrames ?? 1, smoothing = r.Smoothing ?? 1;
        if (onFrames < 1 || onFrames > 10_000) problems.Add($"{at}.onFrames: {onFrames} is outside 1..10000");
        if (offFrames < 1 || offFrames > 10_000) problems.Add($"{at}.offFrames: {offFrames} is outside 1..10000");
        if (smoothing < 1 || smoothing > 1000) problems.Add($"{at}.smoothing: {smoothing} is outside 1..1000");

        var mode = RuleMode.WhileSeen;
        switch (r.Mode)
        {
            case null or "while-seen": break;
            case "pulse": mode = RuleMode.Pulse; break;
            default: problems.Add($"{at}.mode: '{r.Mode}' is not while-seen or pulse"); break;
        }
        int pulseMs = r.PulseMs ?? 0;
        if (mode == RuleMode.Pulse && r.PulseMs is null) problems.Add($"{at}.pulseMs: required for mode pulse");
        else if (r.PulseMs is int p && (p < 1 || p > 3_600_000)) problems.Add($"{at}.pulseMs: {p} is outside 1..3600000");
        if (mode != RuleMode.Pulse && r.PulseMs is not null) problems.Add($"{at}.pulseMs: only meaningful with mode pulse");
        int minOn = r.MinOnMs ?? 0;
        if (minOn < 0 || minOn > 3_600_000) problems.Add($"{at}.minOnMs: {minOn} is outside 0..3600000");

        string chip = r.Chip ?? defaultChip;
        if (chip.Length == 0) problems.Add($"{at}.chip: empty");
        int line = r.Line ?? -1;
        if (r.Line is null) problems.Add($"{at}.line: missing (the BCM GPIO number, e.g. 17 for header pin 11)");
        else if (line < 0 || line > 511) problems.Add($"{at}.line: {line} is outside 0..511");
        bool safeOn = false;
        switch (r.SafeState)
        {
            case null or "off": break;
            case "on": safeOn = true; break;
            default: problems.Add($"{at}.safeState: '{r.SafeState}' is not off or on"); break;
        }
        if (problems.Count > before) return null;
        return new RuleDefinition(name, classes.Distinct().ToArray(), (float)on, (float)off, onFrames, offFrames, smoothing,
            mode, pulseMs, minOn, chip, line, r.ActiveLow ?? false, safeOn);
    }

    private static LoggingSettings ValidateLogging(LoggingConfig? l, Func<string, string> resolve, List<string> problems)
    {
        double interval = l?.IntervalSeconds ?? 10;
        if (interval <= 0 || double.IsNaN(interval)) problems.Add($"logging.intervalSeconds: {Fmt(interval)} must be positive");
        string level = l?.Level ?? "information";
        if (level is not ("verbose" or "debug" or "information" or "warning" or "error"))
            problems.Add($"logging.level: '{level}' is not one of verbose, debug, information, warning, error");
        string rolling = l?.RollingInterval ?? "day";
        if (rolling is not ("infinite" or "year" or "month" or "day" or "hour" or "minute"))
            problems.Add($"logging.rollingInterval: '{rolling}' is not one of infinite, year, month, day, hour, minute");
        if (l?.RetainedFileCountLimit is int keep && keep < 1) problems.Add($"logging.retainedFileCountLimit: {keep} must be at least 1");
        if (l?.FileSizeLimitBytes is long size && size < 1024) problems.Add($"logging.fileSizeLimitBytes: {size} is below 1024");
        string? file = l?.File is { } f ? resolve(f) : null;
        return new LoggingSettings(interval, level, l?.Console ?? true, file, rolling, l?.RetainedFileCountLimit ?? 7, l?.FileSizeLimitBytes);
    }

    private static string Fmt(double v) => v.ToString(CultureInfo.InvariantCulture);
}
