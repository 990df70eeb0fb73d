using EdgeMobileNet.Edge.Config;
using EdgeMobileNet.Edge.Rules;
using Xunit;

namespace EdgeMobileNet.Tests.Edge;

public class ConfigValidationTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public ConfigValidationTests()
    {
        File.WriteAllText(_dir.File("model.emn"), "not read: the test supplies the model facts");
        File.WriteAllLines(_dir.File("labels1000.txt"), Enumerable.Range(0, 1000).Select(i => $"class{i}"));
        File.WriteAllText(_dir.File("video.y4m"), "");
    }

    public void Dispose() => _dir.Dispose();

    private static ModelFacts Facts(int classes) => new(classes, c => c == 1 ? "person" : c == 0 ? "notperson" : null);

    private RunSettings Validate(string json, int classes = 2) =>
        ConfigValidator.Validate(EdgeConfigFile.Parse(json, "test.json"), _dir.Path, _ => Facts(classes), "test.json");

    private IReadOnlyList<string> Problems(string json, int classes = 2) =>
        Assert.Throws<ConfigException>(() => Validate(json, classes)).Problems;

    private const string Good = """
        {
          // comments are allowed
          "model": "model.emn",
          "scores": "probabilities",
          "source": { "type": "y4m", "path": "video.y4m" },
          "gpio": { "backend": "sim" },
          "rules": [ { "name": "led", "labels": ["person"], "onThreshold": 0.7, "offThreshold": 0.5,
                       "onFrames": 3, "offFrames": 5, "smoothing": 2, "minOnMs": 500, "line": 17 } ],
          "logging": { "intervalSeconds": 5, "file": "logs/edge.log" }
        }
        """;

    [Fact]
    public void ValidConfigResolvesLabelsPathsAndDefaults()
    {
        var s = Validate(Good);
        var rule = Assert.Single(s.Rules);
        Assert.Equal([1], rule.Classes);
        Assert.Equal((0.7f, 0.5f, 3, 5, 2, 500), (rule.OnThreshold, rule.OffThreshold, rule.OnFrames, rule.OffFrames, rule.Smoothing, rule.MinOnMs));
        Assert.Equal(RuleMode.WhileSeen, rule.Mode);
        Assert.Equal(("auto", 17, false, false), (rule.Chip, rule.Line, rule.ActiveLow, rule.SafeOn));
        Assert.Equal(Path.Combine(_dir.Path, "video.y4m"), s.Source.Location);
        Assert.Equal(Path.Combine(_dir.Path, "logs", "edge.log"), s.Logging.File);
        Assert.Equal("sim", s.GpioBackend);
    }

    [Fact]
    public void EveryProblemIsListedAndNamed()
    {
        var problems = Problems("""
            {
              "model": "missing.emn",
              "scores": "odds",
              "source": { "type": "webcam", "fps": -1 },
              "preprocess": { "resize": "zoom" },
              "gpio": { "backend": "wiringpi" },
              "rules": [
                { "classes": [0], "onThreshold": 1.5, "offThreshold": 1.7, "onFrames": 0, "mode": "blink", "line": 600, "safeState": "maybe" },
                { "name": "relay", "mode": "pulse", "threshold": 0.5, "line": 17 },
                { "name": "dup", "classes": [0], "threshold": 0.5, "line": 17, "smoothing": 0, "minOnMs": -1 }
              ],
              "logging": { "intervalSeconds": 0, "level": "loud", "rollingInterval": "fortnight" }
            }
            """);
        string all = string.Join("\n", problems);
        string[] expected =
        [
            "model: file", "scores: 'odds'", "source.type: 'webcam'", "source.fps: -1", "preprocess.resize: 'zoom'",
            "gpio.backend: 'wiringpi'", "rules[0].onThreshold: 1.5", "rules[0].offThreshold: 1.7 is outside", "rules[0].offThreshold: 1.7 is above",
            "rules[0].onFrames: 0", "rules[0].mode: 'blink'", "rules[0].line: 600", "rules[0].safeState: 'maybe'",
            "rules[1]: names no classes", "rules[1].pulseMs: required", "rules[2].smoothing: 0", "rules[2].minOnMs: -1",
            "logging.intervalSeconds: 0", "logging.level: 'loud'", "logging.rollingInterval: 'fortnight'",
        ];
        foreach (string e in expected) Assert.Contains(e, all);
        Assert.Equal(expected.Length, problems.Count);
    }

    [Fact]
    public void DuplicateLinesAreRejected()
    {
        var problems = Problems("""
            { "model": "model.emn", "source": { "type": "y4m", "path": "video.y4m" },
              "rules": [ { "name": "a", "classes": [1], "threshold": 0.5, "line": 17 },
                         { "name": "b", "classes": [0], "threshold": 0.5, "line": 17 } ] }
            """);
        Assert.Equal("rules[1].line: line 17 on chip 'auto' is already driven by rule 'a'", Assert.Single(problems));
    }

    [Fact]
    public void LabelCountOffByOneIsAnErrorUnlessTheOffsetIsStated()
    {
        const string template = """
            { "model": "model.emn", "labels": "labels1000.txt" OFFSET, "source": { "type": "y4m", "path": "video.y4m" },
              "rules": [ { "labels": ["class258"], "threshold": 0.5, "line": 17 } ] }
            """;
        var problem = Assert.Single(Problems(template.Replace("OFFSET", ""), classes: 1001));
        Assert.Contains("1000 labels for a model with 1001 outputs", problem);
        Assert.Contains("labelOffset", problem);
        var s = Validate(template.Replace("OFFSET", ", \"labelOffset\": 1"), classes: 1001);
        Assert.Equal([259], s.Rules[0].Classes);
        Assert.Equal([258], Validate(template.Replace("OFFSET", ""), classes: 1000).Rules[0].Classes);
        Assert.Contains("do not fit", Assert.Single(Problems(template.Replace("OFFSET", ", \"labelOffset\": 2"), classes: 1001)));
    }

    [Fact]
    public void UnknownLabelsAndClassesOutOfRangeAreNamed()
    {
        var problems = Problems("""
            { "model": "model.emn", "source": { "type": "y4m", "path": "video.y4m" },
              "rules": [ { "labels": ["giraffe"], "classes": [2], "threshold": 0.5, "line": 17 } ] }
            """);
        Assert.Contains(problems, p => p.StartsWith("rules[0].classes: class 2 is outside the model's 0..1", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("rules[0].labels: 'giraffe' is not a label of the model", StringComparison.Ordinal));
    }

    [Fact]
    public void BadJsonAndUnknownFieldsAreReported()
    {
        Assert.Contains("not valid configuration JSON", Assert.Single(Assert.Throws<ConfigException>(() => EdgeConfigFile.Parse("{ \"model\": ", "x")).Problems));
        Assert.Contains("not valid configuration JSON", Assert.Single(Assert.Throws<ConfigException>(() => EdgeConfigFile.Parse("{ \"modle\": \"a\" }", "x")).Problems));
    }

    [Fact]
    public void LibcameraNeedsItsGeometry()
    {
        var problems = Problems("""
            { "model": "model.emn", "source": { "type": "libcamera", "width": 640, "stride": 320 },
              "rules": [ { "classes": [1], "threshold": 0.5, "line": 17 } ] }
            """);
        Assert.Contains(problems, p => p.StartsWith("source.width/height: required", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("source.stride: 320 is less than the width 640", StringComparison.Ordinal));
    }

    [Fact]
    public void ExampleConfigsInFirmwareConfigParse()
    {
        string? root = AppContext.BaseDirectory;
        while (root is not null && !Directory.Exists(Path.Combine(root, "firmware-config"))) root = Path.GetDirectoryName(root);
        Assert.NotNull(root);
        var files = Directory.GetFiles(Path.Combine(root, "firmware-config"), "*.json");
        Assert.NotEmpty(files);
        foreach (string file in files)
        {
            // Parse and validate the static parts (the model and camera do not exist here).
            var config = EdgeConfigFile.Load(file);
            var problems = Assert.Throws<ConfigException>(() => ConfigValidator.Validate(config, Path.GetDirectoryName(file)!, null, file)).Problems;
            Assert.All(problems, p => Assert.True(p.StartsWith("model: file", StringComparison.Ordinal) || p.StartsWith("labels: file", StringComparison.Ordinal) || p.StartsWith("source.path", StringComparison.Ordinal), $"{file}: {p}"));
        }
    }
}
