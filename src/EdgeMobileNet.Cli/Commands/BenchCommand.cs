using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Analysis;
using EdgeMobileNet.Graph.Runtime;

namespace EdgeMobileNet.Cli.Commands;

/// <summary>edgemobilenet bench: latency distribution and Mult-Adds per second of one model.</summary>
public static class BenchCommand
{
    public static Command Create(CliContext cli)
    {
        var model = new Option<string>("--model", "-m") { Description = "The .emn model file", Required = true };
        var warmup = new Option<int>("--warmup") { Description = "Untimed runs first", DefaultValueFactory = _ => 3 };
        var iterations = new Option<int>("--iterations", "-n") { Description = "Timed runs", DefaultValueFactory = _ => 20 };
        var perLayer = new Option<bool>("--per-layer") { Description = "Also time every operator (median over iterations)" };
        var command = new Command("bench", "Measure inference latency: min/median/p90/max and Mult-Adds per second")
        {
            model, ClassifyCommand.ThreadsOption, warmup, iterations, perLayer, ClassifyCommand.IsaOption,
        };
        command.SetAction(parse =>
        {
            int t = ClassifyCommand.Threads(parse), w = parse.GetValue(warmup), n = parse.GetValue(iterations);
            if (w < 0) throw new UsageException($"--warmup {w} must not be negative");
            if (n < 1) throw new UsageException($"--iterations {n} must be at least 1");
            string path = parse.GetValue(model)!;
            using var file = LoadedModel.OpenFile(path);
            using var session = InferenceSession.Create(file.Model,
                new SessionOptions { Isa = parse.GetValue(ClassifyCommand.IsaOption), SourceName = path, Threads = t });
            FillInputs(session);
            long macs = ModelStatistics.Compute(session.Model).MultAdds;

            for (int i = 0; i < w; i++) session.Run();
            var times = new double[n];
            bool profile = parse.GetValue(perLayer);
            var layerTicks = new long[session.Operators.Count * n];
            for (int i = 0; i < n; i++)
            {
                long start = Stopwatch.GetTimestamp();
                if (profile) session.RunProfiled(layerTicks.AsSpan(i * session.Operators.Count, session.Operators.Count));
                else session.Run();
                times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
            Array.Sort(times);
            var inv = CultureInfo.InvariantCulture;
            double median = Percentile(times, 0.5);
            cli.Out.WriteLine(string.Create(inv, $"model      {path} ({session.Model.Name})"));
            cli.Out.WriteLine(string.Create(inv, $"kernels    {session.Kernels.Name}: {session.Kernels.Description}"));
            string note = session.Threads < t ? $" (kernel set '{session.Kernels.Name}' is single-threaded)" : "";
            cli.Out.WriteLine(string.Create(inv, $"threads    requested {t}, used {session.Threads}{note}"));
            cli.Out.WriteLine(string.Create(inv, $"runs       {w} warmup, {n} timed; arena {session.ArenaBytes} bytes; {macs / 1e6:F1}M Mult-Adds per run"));
            cli.Out.WriteLine(string.Create(inv,
                $"latency ms min {times[0]:F3}  median {median:F3}  p90 {Percentile(times, 0.9):F3}  max {times[^1]:F3}"));
            cli.Out.WriteLine(string.Create(inv, $"throughput {macs / (median / 1000) / 1e9:F3} GMAC/s at the median, {1000 / median:F2} inferences/s"));
            if (profile) PrintLayers(cli, session, layerTicks, n);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Deterministic inputs in the tensor's natural range (a benchmark must not depend on the time of day).</summary>
    internal static void FillInputs(InferenceSession session)
    {
        var random = new Random(42);
        for (int i = 0; i < session.InputCount; i++)
        {
            var tensor = session.InputTensor(i);
            if (tensor.DataType == DataType.Float32)
                foreach (ref float v in session.Input<float>(i)) v = (float)(random.NextDouble() * 2 - 1);
            else if (tensor.DataType == DataType.Int8)
                foreach (ref sbyte v in session.Input<sbyte>(i)) v = (sbyte)random.Next(-128, 128);
        }
    }

    private static void PrintLayers(CliContext cli, InferenceSession session, long[] ticks, int iterations)
    {
        int ops = session.Operators.Count;
        var stats = ModelStatistics.Compute(session.Model);
        var inv = CultureInfo.InvariantCulture;
        cli.Out.WriteLine();
        cli.Out.WriteLine(string.Create(inv, $"{"#",3}  {"operator",-18} {"name",-28} {"median ms",10} {"share",7} {"GMAC/s",8}  kernel"));
        var medians = new double[ops];
        var samples = new double[iterations];
        for (int o = 0; o < ops; o++)
        {
            for (int i = 0; i < iterations; i++) samples[i] = ticks[i * ops + o] * 1000.0 / Stopwatch.Frequency;
            Array.Sort(samples);
            medians[o] = Percentile(samples, 0.5);
        }
        double total = medians.Sum();
        for (int o = 0; o < ops; o++)
        {
            var l = stats.Layers[o];
            double gmacs = medians[o] > 0 ? l.MultAdds / (medians[o] / 1000) / 1e9 : 0;
            cli.Out.WriteLine(string.Create(inv,
                $"{o,3}  {l.Type,-18} {l.Name,-28} {medians[o],10:F3} {100 * medians[o] / total,6:F1}% {gmacs,8:F2}  {session.Operators[o].KernelName}"));
        }
    }

    internal static double Percentile(double[] sorted, double p)
    {
        double rank = p * (sorted.Length - 1);
        int lo = (int)Math.Floor(rank), hi = (int)Math.Ceiling(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }
}
