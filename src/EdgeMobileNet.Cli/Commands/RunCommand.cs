using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using EdgeMobileNet.Edge.Config;
using EdgeMobileNet.Edge.Frames;
using EdgeMobileNet.Edge.Gpio;
using EdgeMobileNet.Edge.Runtime;
using EdgeMobileNet.Edge.V4l2;
using EdgeMobileNet.Format.Model;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace EdgeMobileNet.Cli.Commands;

/// <summary>
/// edgemobilenet run: camera frames in, MobileNet decisions out on GPIO lines, per a JSON
/// configuration (docs/edge-runtime.md). SIGINT/SIGTERM stop the loop; outputs end in their safe state.
/// </summary>
public static class RunCommand
{
    public static Command Create(CliContext cli)
    {
        var config = new Option<string>("--config", "-c") { Description = "The JSON configuration file", Required = true };
        var gpio = new Option<string?>("--gpio") { Description = "GPIO backend: gpiod (real lines) or sim (recorded, printed at exit); default from the config, else gpiod" };
        var maxFrames = new Option<long?>("--max-frames") { Description = "Stop after N processed frames" };
        var duration = new Option<double?>("--duration") { Description = "Stop after S seconds" };
        var command = new Command("run", "Run the edge loop: capture, preprocess, infer, apply rules, drive GPIO lines")
        {
            config, gpio, maxFrames, duration, ClassifyCommand.IsaOption, ClassifyCommand.ThreadsOption,
        };
        command.SetAction(parse =>
        {
            string configPath = parse.GetValue(config)!;
            string? backendOverride = parse.GetValue(gpio);
            if (backendOverride is not (null or "sim" or "gpiod")) throw new UsageException($"--gpio '{backendOverride}' is not sim or gpiod");
            long? frames = parse.GetValue(maxFrames);
            if (frames is < 1) throw new UsageException($"--max-frames {frames} must be at least 1");
            double? seconds = parse.GetValue(duration);
            if (seconds is not null && !(seconds > 0)) throw new UsageException($"--duration {seconds} must be positive");
            string? isa = parse.GetValue(ClassifyCommand.IsaOption);
            return Execute(cli, configPath, backendOverride, frames, seconds, isa == "auto" ? null : isa, ClassifyCommand.Threads(parse));
        });
        return command;
    }

    public static int Execute(CliContext cli, string configPath, string? backendOverride, long? maxFrames, double? seconds, string? isa,
        int threads = 1)
    {
        RunSettings settings;
        try
        {
            if (!File.Exists(configPath)) throw new BadInputException($"{configPath}: configuration file not found");
            var parsed = EdgeConfigFile.Load(configPath);
            string directory = Path.GetDirectoryName(Path.GetFullPath(configPath))!;
            settings = ConfigValidator.Validate(parsed, directory, ModelFactsOf, configPath);
        }
        catch (ConfigException e)
        {
            throw new BadInputException(e.Message, e);
        }

        using var logger = CreateLogger(settings.Logging, cli);
        string backendName = backendOverride ?? settings.GpioBackend;
        using var loaded = LoadedModel.Open(settings.ModelPath, isa ?? settings.Isa, threads);
        var classifier = new FrameClassifier(loaded.Session, settings.Resize, settings.Scores);

        IFrameSource source = OpenSource(settings.Source);
        logger.Information("source: {Source:l}", source.Description);
        logger.Information("model: {Model:l} ({Kernels:l}), {Classes} outputs, scores {Scores:l}", settings.ModelPath, loaded.Session.Kernels.Name, classifier.ClassCount, settings.Scores.ToString());

        var sim = backendName == "sim" ? new SimulatedGpio() : null;
        IGpioBackend backend = sim is not null ? sim : new GpiodGpio();
        EdgeRunner? runner = null;
        if (sim is not null) sim.Clock = () => runner?.NowMs ?? 0;
        GpioOutputs outputs;
        try
        {
            outputs = new GpioOutputs(backend, settings.Rules);
        }
        catch
        {
            backend.Dispose();
            source.Dispose();
            throw;
        }
        foreach (var r in settings.Rules)
            logger.Information("rule {Name:l}: classes [{Classes:l}] on>={On} x{OnFrames}, off<{Off} x{OffFrames}, smoothing {Smoothing}, {Mode:l}{Pulse:l}, min on {MinOn} ms -> {Backend:l} chip {Chip:l} line {Line}{ActiveLow:l}, safe {Safe:l}",
                r.Name, string.Join(",", r.Classes), r.OnThreshold, r.OnFrames, r.OffThreshold, r.OffFrames, r.Smoothing, r.Mode.ToString(),
                r.Mode == Edge.Rules.RuleMode.Pulse ? $" {r.PulseMs} ms" : "", r.MinOnMs, backend.Name, r.Chip, r.Line, r.ActiveLow ? " (active low)" : "", r.SafeOn ? "on" : "off");

        using var cancel = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; cancel.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; cancel.Cancel(); });
        var options = new RunOptions
        {
            MaxFrames = maxFrames ?? long.MaxValue,
            Duration = seconds is double s ? TimeSpan.FromSeconds(s) : Timeout.InfiniteTimeSpan,
            ReportInterval = TimeSpan.FromSeconds(settings.Logging.IntervalSeconds),
            SourceTimeoutMs = settings.Source.TimeoutMs,
            ReopenMaxBackoffMs = settings.Source.ReopenMaxBackoffMs,
        };
        runner = new EdgeRunner(source, () => OpenSource(settings.Source), classifier, settings.Rules, outputs, options,
            report => LogReport(logger, report), message => logger.Warning("{Event:l}", message));
        RunResult result;
        try
        {
            result = runner.Run(cancel.Token);
        }
        catch (Exception e)
        {
            logger.Error("fault: {Message:l}; outputs set to their safe state", e.Message);
            throw;
        }
        finally
        {
            outputs.Dispose(); // safe state again, then release the lines
            runner.DisposeSource();
        }
        var o = result.Overall!;
        logger.Information("stopped: {Reason:l}; {Frames} frames in {Seconds:F1} s ({Fps:F1} fps), dropped {Dropped}, corrupt {Corrupt}, timeouts {Timeouts}, reconnects {Reconnects}",
            result.EndReason, result.Frames, result.Seconds, o.Fps, result.Dropped, result.Corrupt, result.Timeouts, result.Reconnects);
        LogReport(logger, o);
        if (sim is not null)
        {
            foreach (var t in sim.Snapshot())
                cli.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"gpio {t.TimeMs,10:F1} ms  {t.Chip} line {t.Line,3} -> {(t.High ? 1 : 0)}"));
        }
        return ExitCodes.Success;
    }

    private static ModelFacts ModelFactsOf(string path)
    {
        using var file = LoadedModel.OpenFile(path);
        var model = file.Model;
        var output = model.Tensors[model.Outputs[0]];
        var labels = Enumerable.Range(0, (int)output.ElementCount).Select(model.LabelOf).ToArray();
        if (model.InputContract is null) throw new BadInputException("the model has no input contract, so camera frames cannot be fed to it");
        return new ModelFacts((int)output.ElementCount, c => c >= 0 && c < labels.Length ? labels[c] : null);
    }

    public static IFrameSource OpenSource(SourceSettings s) => s.Type switch
    {
        SourceType.V4l2 => new V4l2FrameSource(s.Location, s.PixelFormat, s.Width, s.Height, s.Fps, s.Buffers, s.Range),
        SourceType.Libcamera => new RawI420Source(s.Location, s.Width, s.Height, s.Stride, s.Range),
        SourceType.Y4m => new Y4mFrameSource(s.Location, s.Loop, s.Range),
        _ => new ImageFilesSource(s.Location, s.Loop, s.Fps),
    };

    private static void LogReport(Logger logger, RunReport r)
    {
        var (temp, throttled) = SystemHealth.Read();
        logger.Information(
            "{Fps:F1} fps ({Frames} frames/{Seconds:F1} s); p50/p99 ms: capture {CapP50:F2}/{CapP99:F2}, preprocess {PreP50:F2}/{PreP99:F2}, inference {InfP50:F2}/{InfP99:F2}, rules+gpio {RuleP50:F3}/{RuleP99:F3}, total {TotP50:F2}/{TotP99:F2}; dropped {Dropped}, corrupt {Corrupt}, timeouts {Timeouts}, reconnects {Reconnects}; cpu {Temp:l} C, throttled {Throttled:l}",
            r.Fps, r.Frames, r.Seconds, r.Capture.P50, r.Capture.P99, r.Preprocess.P50, r.Preprocess.P99, r.Inference.P50, r.Inference.P99,
            r.Rules.P50, r.Rules.P99, r.Total.P50, r.Total.P99, r.Dropped, r.Corrupt, r.Timeouts, r.Reconnects,
            temp is double t ? t.ToString("F1", CultureInfo.InvariantCulture) : "n/a",
            throttled is uint f ? SystemHealth.DescribeThrottled(f) : "n/a");
    }

    private static Logger CreateLogger(LoggingSettings l, CliContext cli)
    {
        var level = l.Level switch
        {
            "verbose" => LogEventLevel.Verbose,
            "debug" => LogEventLevel.Debug,
            "warning" => LogEventLevel.Warning,
            "error" => LogEventLevel.Error,
            _ => LogEventLevel.Information,
        };
        if (cli.Verbose && level > LogEventLevel.Debug) level = LogEventLevel.Debug;
        var configuration = new LoggerConfiguration().MinimumLevel.Is(level);
        if (l.Console)
            configuration = configuration.WriteTo.Console(standardErrorFromLevel: LogEventLevel.Verbose, formatProvider: CultureInfo.InvariantCulture);
        if (l.File is { } file)
        {
            var rolling = l.RollingInterval switch
            {
                "infinite" => RollingInterval.Infinite,
                "year" => RollingInterval.Year,
                "month" => RollingInterval.Month,
                "hour" => RollingInterval.Hour,
                "minute" => RollingInterval.Minute,
                _ => RollingInterval.Day,
            };
            configuration = configuration.WriteTo.File(file, formatProvider: CultureInfo.InvariantCulture, rollingInterval: rolling,
                retainedFileCountLimit: l.RetainedFileCountLimit, fileSizeLimitBytes: l.FileSizeLimitBytes ?? 16L * 1024 * 1024, rollOnFileSizeLimit: true);
        }
        return configuration.CreateLogger();
    }
}
