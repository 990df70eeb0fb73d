using EdgeMobileNet.Cli;
using EdgeMobileNet.Edge.Config;
using EdgeMobileNet.Edge.Frames;
using EdgeMobileNet.Edge.Gpio;
using EdgeMobileNet.Edge.Imaging;
using EdgeMobileNet.Edge.Rules;
using EdgeMobileNet.Edge.Runtime;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Runtime;
using Xunit;
using Xunit.Abstractions;
using static EdgeMobileNet.Tests.Edge.EdgeTestSupport;

namespace EdgeMobileNet.Tests.Edge;

public class EdgeRunnerTests(ITestOutputHelper output) : IDisposable
{
    private const int W = 96, H = 72;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static byte[] Bright() => PatternRgb(W, H, 1);
    private static byte[] Dark()
    {
        var rgb = PatternRgb(W, H, 5);
        for (int i = 0; i < rgb.Length; i++) rgb[i] = (byte)(rgb[i] / 6);
        return rgb;
    }

    /// <summary>Scores of each distinct frame through the same path the runner uses.</summary>
    private static float[][] ScoresOf(ModelDefinition model, string y4m, int frames)
    {
        using var session = InferenceSession.Create(model);
        var classifier = new FrameClassifier(session, ResizeMode.Crop, ScoreMode.Raw);
        using var source = new Y4mFrameSource(y4m);
        var frame = new FrameBuffer();
        var result = new float[frames][];
        for (int i = 0; i < frames; i++)
        {
            Assert.Equal(FrameReadStatus.Frame, source.Read(frame, 0));
            classifier.Preprocess(frame);
            result[i] = classifier.Infer().ToArray();
        }
        return result;
    }

    [Fact]
    public void Y4mThroughAGeneratedMobileNetGivesTheExactGpioTransitions()
    {
        var model = SmallModels.F32;
        string y4m = _dir.File("clip.y4m");
        // Frames at 10 fps: A A A B B B B A A B
        string pattern = "AAABBBBAAB";
        WriteY4m(y4m, W, H, 10, pattern.Select(c => c == 'A' ? Bright() : Dark()));
        var scores = ScoresOf(model, y4m, 4);
        // The class that best separates A from B; the threshold halfway between.
        int best = Enumerable.Range(0, scores[0].Length).MaxBy(c => Math.Abs(scores[0][c] - scores[3][c]));
        float a = scores[0][best], b = scores[3][best];
        Assert.True(Math.Abs(a - b) > 1e-4, $"frames A and B score alike ({a} vs {b})");
        float mid = (a + b) / 2;
        bool aHigh = a > b;
        string seen = new(pattern.Select(c => (c == 'A') == aHigh ? 'A' : 'B').ToArray()); // 'A' = above threshold
        Assert.Equal(aHigh ? "AAABBBBAAB" : "BBBAAAABBA", seen);

        var rules = new[]
        {
            new RuleDefinition("led", [best], mid, mid, 2, 2, 1, RuleMode.WhileSeen, 0, 0, "sim", 17, false, false),
            new RuleDefinition("relay", [best], mid, mid, 1, 1, 1, RuleMode.Pulse, 150, 0, "sim", 27, true, false),
        };
        var transitions = RunFile(model, y4m, rules, out var result);
        output.WriteLine(string.Join("\n", transitions));
        Assert.Equal("end of input", result.EndReason);
        Assert.Equal(10, result.Frames);
        Assert.Equal(0, result.Dropped);

        GpioTransition T(double t, int line, bool high) => new(t, "sim", line, high);
        var expected = aHigh
            ? new[]
            {
                T(0, 17, false), T(0, 27, true),       // claimed in the safe state (27 is active low)
                T(0, 27, false),                        // frame 0: pulse starts (on = low)
                T(100, 17, true),                       // frame 1: 2nd frame above: led on
                T(200, 27, true),                       // frame 2: pulse of 150 ms over
                T(400, 17, false),                      // frame 4: 2nd frame below: led off
                T(700, 27, false),                      // frame 7: new detection: new pulse
                T(800, 17, true),                       // frame 8: led on
                T(900, 27, true),                       // frame 9: pulse over
                T(900, 17, false),                      // end of input: safe state
            }
            : new[]
            {
                // B frames (3..6) are above: led on at frame 4, off at frame 8 (2nd A below); pulse from
                // 300 to 450 (off at frame 5); frame 9 (B) is a new detection: pulse starts at 900,
                // then the end-of-input safe state.
                T(0, 17, false), T(0, 27, true), T(300, 27, false), T(400, 17, true), T(500, 27, true),
                T(800, 17, false), T(900, 27, false), T(900, 27, true),
            };
        Assert.Equal(expected, transitions);
    }

    private static GpioTransition[] RunFile(ModelDefinition model, string y4m, RuleDefinition[] rules, out RunResult result, RunOptions? options = null)
    {
        using var session = InferenceSession.Create(model);
        var classifier = new FrameClassifier(session, ResizeMode.Crop, ScoreMode.Raw);
        var sim = new SimulatedGpio();
        EdgeRunner? runner = null;
        sim.Clock = () => runner?.NowMs ?? 0;
        using var outputs = new GpioOutputs(sim, rules);
        var source = new Y4mFrameSource(y4m, loop: options is not null);
        runner = new EdgeRunner(source, () => throw new IOException("no reopen for files"), classifier, rules, outputs, options ?? new RunOptions());
        try
        {
            result = runner.Run(CancellationToken.None);
        }
        finally
        {
            runner.DisposeSource();
        }
        return sim.Snapshot();
    }

    [Fact]
    public void SteadyStateLoopAllocatesNothingPerFrame()
    {
        var model = SmallModels.Int8;
        string y4m = _dir.File("loop.y4m");
        WriteY4m(y4m, W, H, 30, [Bright(), Dark(), Bright()]);
        var rules = new[] { new RuleDefinition("led", [1, 2], 0.5f, 0.4f, 2, 3, 4, RuleMode.WhileSeen, 0, 100, "sim", 17, false, false) };
        RunFile(model, y4m, rules, out var result, new RunOptions { MaxFrames = 160, AllocationWarmupFrames = 30, ReportInterval = TimeSpan.FromDays(1) });
        output.WriteLine($"{result.SteadyStateFrames} steady frames: inference thread {result.InferenceThreadAllocatedBytes} B, capture thread {result.CaptureThreadAllocatedBytes} B");
        Assert.Equal(160, result.Frames);
        Assert.True(result.SteadyStateFrames >= 100);
        Assert.Equal(0, result.InferenceThreadAllocatedBytes);
        Assert.True(result.CaptureThreadAllocatedBytes <= 1024, $"capture thread allocated {result.CaptureThreadAllocatedBytes} B");
    }

    /// <summary>A live (non-file) source that produces frames, then "loses the camera" once.</summary>
    private sealed class FlakyCamera(int framesBeforeLoss, FrameBuffer image) : IFrameSource
    {
        private int _count;
        public string Description => "flaky";
        public bool IsFile => false;
        public FrameReadStatus Read(FrameBuffer frame, int timeoutMs)
        {
            Thread.Sleep(3);
            if (framesBeforeLoss >= 0 && _count++ >= framesBeforeLoss) throw new FrameSourceLostException("ENODEV (device gone)");
            frame.CopyFrom(image);
            return FrameReadStatus.Frame;
        }
        public void Dispose() { }
    }

    [Fact]
    public void LostCameraSetsOutputsSafeAndReopens()
    {
        var image = Encode(Bright(), W, H, PixelFormat.Yuyv, false);
        using var session = InferenceSession.Create(SmallModels.F32);
        var classifier = new FrameClassifier(session, ResizeMode.Crop, ScoreMode.Raw);
        var rules = new[] { new RuleDefinition("always", [0], -1e9f, -1e9f, 1, 1, 1, RuleMode.WhileSeen, 0, 0, "sim", 17, false, false) };
        var sim = new SimulatedGpio();
        using var outputs = new GpioOutputs(sim, rules);
        var events = new List<string>();
        int opens = 0;
        var runner = new EdgeRunner(new FlakyCamera(5, image), () => { opens++; return new FlakyCamera(-1, image); }, classifier, rules, outputs,
            new RunOptions { MaxFrames = 20, ReopenMaxBackoffMs = 200 }, onEvent: e => { lock (events) events.Add(e); });
        var result = runner.Run(CancellationToken.None);
        runner.DisposeSource();
        var levels = sim.Snapshot().Select(t => t.High ? '1' : '0');
        output.WriteLine($"{result.EndReason} frames {result.Frames} reconnects {result.Reconnects}; " + string.Join(" | ", events) + "; " + string.Join(", ", sim.Snapshot()));
        Assert.Equal("01010", string.Concat(levels)); // safe, on, safe while lost, on again, safe at exit
        Assert.Equal(1, result.Reconnects);
        Assert.Equal(1, opens);
        Assert.Contains(events, e => e.Contains("camera lost", StringComparison.Ordinal));
    }

    [Fact]
    public void CancellationAndFaultsLeaveOutputsSafe()
    {
        var image = Encode(Bright(), W, H, PixelFormat.Rgb24, false);
        using var session = InferenceSession.Create(SmallModels.F32);
        var classifier = new FrameClassifier(session, ResizeMode.Crop, ScoreMode.Raw);
        var rules = new[] { new RuleDefinition("always", [0], -1e9f, -1e9f, 1, 1, 1, RuleMode.WhileSeen, 0, 0, "sim", 17, true, false) };
        var sim = new SimulatedGpio();
        using var outputs = new GpioOutputs(sim, rules);
        using var cancel = new CancellationTokenSource();
        var runner = new EdgeRunner(new FlakyCamera(-1, image), () => throw new IOException("x"), classifier, rules, outputs,
            new RunOptions(), report: null);
        // Cancel once the rule has switched the output on (a fixed delay could pass before the first frame on a loaded machine).
        var thread = new Thread(() =>
        {
            SpinWait.SpinUntil(() => sim.Snapshot().Length >= 2, TimeSpan.FromSeconds(60));
            cancel.Cancel();
        });
        thread.Start();
        var result = runner.Run(cancel.Token);
        thread.Join();
        Assert.Equal("stopped by signal", result.EndReason);
        Assert.True(sim.Snapshot()[^1].High); // active low: safe off = high
        Assert.Equal("101", string.Concat(sim.Snapshot().Select(t => t.High ? '1' : '0')));

        // A fault in the capture path (not a lost camera): the loop throws, outputs are safe first.
        var sim2 = new SimulatedGpio();
        using var outputs2 = new GpioOutputs(sim2, rules);
        var broken = new EdgeRunner(new ThrowingSource(), () => throw new IOException("x"), classifier, rules, outputs2, new RunOptions());
        Assert.Throws<InvalidOperationException>(() => broken.Run(CancellationToken.None)); // exit code 4 in the CLI
        Assert.True(sim2.Snapshot()[^1].High);
    }

    private sealed class ThrowingSource : IFrameSource
    {
        public string Description => "broken";
        public bool IsFile => false;
        public FrameReadStatus Read(FrameBuffer frame, int timeoutMs) => throw new InvalidOperationException("decoder bug");
        public void Dispose() { }
    }

    private string WriteConfig(string sourceJson, string modelPath, string extra = "")
    {
        string path = _dir.File("edge.json");
        File.WriteAllText(path, $$"""
            { "model": "{{modelPath.Replace("\\", "/", StringComparison.Ordinal)}}", "scores": "raw",
              "source": {{sourceJson}},
              "rules": [ { "name": "led", "classes": [0], "threshold": -1000, "line": 17 } ],
              "logging": { "intervalSeconds": 1000, "console": false, "file": "logs/edge.log" } {{extra}} }
            """);
        return path;
    }

    [Fact]
    public void RunCommandWithSimulatedGpioPrintsTransitions()
    {
        string model = WriteModel(_dir.Path, SmallModels.Int8, "small.emn");
        WriteY4m(_dir.File("clip.y4m"), W, H, 10, [Bright(), Dark(), Bright()]);
        string config = WriteConfig("""{ "type": "y4m", "path": "clip.y4m" }""", model);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CommandLineApp.Run(["run", "--config", config, "--gpio", "sim", "--max-frames", "10"], stdout, stderr);
        Assert.True(code == 0, stderr.ToString());
        string text = stdout.ToString();
        Assert.Contains("gpio        0.0 ms  auto line  17 -> 0", text);
        Assert.Contains("gpio        0.0 ms  auto line  17 -> 1", text);
        Assert.Contains("gpio      200.0 ms  auto line  17 -> 0", text);
        var logs = Directory.GetFiles(_dir.File("logs"));
        Assert.Contains("stopped: end of input; 3 frames", File.ReadAllText(Assert.Single(logs)));
    }

    [Fact]
    public void MissingCameraExitsWithCode3()
    {
        string model = WriteModel(_dir.Path, SmallModels.Int8, "small.emn");
        string config = WriteConfig("""{ "type": "v4l2", "device": "/dev/video-not-here" }""", model);
        var stderr = new StringWriter();
        Assert.Equal(ExitCodes.BadInput, CommandLineApp.Run(["run", "--config", config, "--gpio", "sim"], new StringWriter(), stderr));
        Assert.Contains("/dev/video-not-here: no such camera device", stderr.ToString());
    }

    [Fact]
    public void InvalidConfigExitsWithCode3AndListsEveryProblem()
    {
        string config = _dir.File("bad.json");
        File.WriteAllText(config, """{ "model": "nope.emn", "source": { "type": "y4m" }, "rules": [] }""");
        var stderr = new StringWriter();
        Assert.Equal(ExitCodes.BadInput, CommandLineApp.Run(["run", "--config", config], new StringWriter(), stderr));
        string text = stderr.ToString();
        Assert.Contains("3 problem(s)", text);
        Assert.Contains("model: file", text);
        Assert.Contains("source.path: required", text);
        Assert.Contains("rules: missing or empty", text);
        Assert.Equal(ExitCodes.Usage, CommandLineApp.Run(["run", "--config", config, "--gpio", "wiringpi"], new StringWriter(), new StringWriter()));
    }
}
