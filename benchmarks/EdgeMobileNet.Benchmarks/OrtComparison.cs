using System.Diagnostics;
using System.Globalization;
using EdgeMobileNet.Format.Io;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Import.Onnx;
using EdgeMobileNet.Zoo;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using EmnSession = EdgeMobileNet.Graph.Runtime.InferenceSession;
using EmnOptions = EdgeMobileNet.Graph.Runtime.SessionOptions;

namespace EdgeMobileNet.Benchmarks;

/// <summary>
/// <c>ort [--models A,B] [--model X.emn] [--threads 1,N] [--iterations N] [--isa NAME]</c>: EdgeMobileNet against
/// ONNX Runtime (CPU provider, all graph optimizations, intra-op threads = N) on the same models, exported with
/// EdgeMobileNet.Import's OnnxExporter (int8 as QDQ). The two engines take turns (one warm-up and one timed run each),
/// so both see the same machine load; the table gives both medians and ORT's median over ours (above 1: we are faster).
/// <c>--per-layer</c> then lists, in execution order, our operators' median times and ORT's nodes' median kernel
/// times from its own profiler, each node on the row of the operator it computes (<see cref="LayerAlignment"/>).
/// </summary>
public static class OrtComparison
{
    private static readonly string[] DefaultModels =
        ["v1-1.0-224-fp32", "v1-1.0-224-int8", "v1-0.25-128-fp32", "v1-0.25-128-int8", "v2-1.0-224-fp32", "v2-1.0-224-int8"];

    public static int Run(string[] args)
    {
        var models = new List<string>();
        string? isa = null;
        var threads = new List<int> { 1, Environment.ProcessorCount };
        int iterations = 30, warmup = 5;
        bool perLayer = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--models": models.AddRange(args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries)); break;
                case "--model": models.Add(args[++i]); break;
                case "--threads": threads = args[++i].Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture)).Distinct().ToList(); break;
                case "--iterations": iterations = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--isa": isa = args[++i]; break;
                case "--per-layer": perLayer = true; break;
                default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
            }
        }
        if (models.Count == 0) models.AddRange(DefaultModels);

        Console.WriteLine($"machine: {Environment.ProcessorCount} logical CPUs, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}; " +
                          $"onnxruntime {OrtEnv.Instance().GetVersionString()}; {iterations} turns per engine (a warm-up run, then a timed one), engines alternating, after {warmup} warm-up");
        Console.WriteLine($"{"model",-20} {"threads",7} {"kernels",-10} {"ours ms",9} {"ORT ms",9} {"ORT/ours",9}");
        foreach (string name in models)
        {
            ModelDefinition model;
            try { model = Load(name); }
            catch (Exception e) { Console.WriteLine($"{name,-20} cannot load: {e.Message}"); continue; }
            foreach (int t in threads) Compare(name, model, t, isa, warmup, iterations, perLayer);
        }
        return 0;
    }

    /// <summary>A file path, or a generated zoo model named arch-alpha-resolution-dtype (e.g. v1-0.25-128-int8).</summary>
    internal static ModelDefinition Load(string name)
    {
        if (File.Exists(name)) return EmnReader.Read(File.ReadAllBytes(name), name);
        string[] parts = name.Split('-');
        if (parts.Length != 4) throw new ArgumentException("expected a file or arch-alpha-resolution-dtype");
        float alpha = float.Parse(parts[1], CultureInfo.InvariantCulture);
        int resolution = int.Parse(parts[2], CultureInfo.InvariantCulture);
        var f32 = parts[0] switch
        {
            "v1" => MobileNetV1.Build(alpha, resolution),
            "v2" => MobileNetV2.Build(alpha, resolution),
            _ => throw new ArgumentException($"unknown architecture {parts[0]}"),
        };
        return parts[3] == "int8" ? PostTrainingQuantizer.Quantize(f32, PostTrainingQuantizer.SyntheticCalibration(f32, 4, 7)) : f32;
    }

    private static void Compare(string name, ModelDefinition model, int threads, string? isa, int warmup, int iterations, bool perLayer)
    {
        using var ours = EmnSession.Create(model, new EmnOptions { Isa = isa, Threads = threads });
        var random = new Random(42);
        if (ours.InputTensor(0).DataType == DataType.Float32)
            foreach (ref float v in ours.Input<float>(0)) v = (float)(random.NextDouble() * 2 - 1);
        else
            foreach (ref sbyte v in ours.Input<sbyte>(0)) v = (sbyte)random.Next(-128, 128);

        Microsoft.ML.OnnxRuntime.InferenceSession? ort = null;
        List<NamedOnnxValue>? inputs = null;
        string ortNote = "";
        try
        {
            using var options = OrtOptions(threads);
            ort = new Microsoft.ML.OnnxRuntime.InferenceSession(OnnxExporter.Export(model), options);
            inputs = OrtInputs(ort, random);
        }
        catch (Exception e)
        {
            ortNote = $"ORT unavailable ({e.GetType().Name}: {e.Message.Split('\n')[0]})";
            ort?.Dispose();
            ort = null;
        }

        var oursTimes = new double[iterations];
        var ortTimes = new double[iterations];
        for (int i = 0; i < warmup; i++)
        {
            ours.Run();
            if (ort is not null) { using var r = ort.Run(inputs!); }
        }
        // Turns: engine after engine, each a warm-up run then a timed one. The machine's speed drifts by up to 1.4x
        // over a few hundred milliseconds, and blocks of runs per engine (this script's former rounds) could land in
        // different phases: V1 1.0-224 fp32 ran 0.88-1.08x of ORT from one run of the script to the next. Turns pair
        // each timed run with the other engine's under the same load, and the warm-up keeps the run as warm as
        // back-to-back inferences (its own weights in cache). With worker threads a turn starts after a pause in which
        // both engines' spinning pool threads park, so neither takes the cores from the other.
        Action ortRun = () => { using var r = ort!.Run(inputs!); };
        for (int i = 0; i < iterations; i++)
        {
            oursTimes[i] = Turn(ours.Run, threads > 1);
            if (ort is not null) ortTimes[i] = Turn(ortRun, threads > 1);
        }
        double oursMs = Median(oursTimes);
        string line = string.Create(CultureInfo.InvariantCulture, $"{name,-20} {ours.Threads,7} {ours.Kernels.Name,-10} {oursMs,9:F2}");
        if (ort is null) Console.WriteLine($"{line} {ortNote}");
        else
        {
            double ortMs = Median(ortTimes);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{line} {ortMs,9:F2} {ortMs / oursMs,9:F2}"));
        }
        ort?.Dispose();
        if (perLayer) PrintLayers(ours, model, threads, ort is null ? null : inputs, iterations);
    }

    /// <summary>
    /// Profiles both engines in turns as the timed comparison does (the machine's speed drifts by the minute): each
    /// profiled run follows an unprofiled one of the same engine, and with worker threads a pause first, and prints
    /// each one's per-node medians in execution order, ORT's nodes on the rows of the operators they compute.
    /// </summary>
    private static void PrintLayers(EmnSession ours, ModelDefinition model, int threads, List<NamedOnnxValue>? inputs, int iterations)
    {
        int ops = ours.Operators.Count;
        var ticks = new long[ops * iterations];
        Microsoft.ML.OnnxRuntime.InferenceSession? ort = null;
        if (inputs is not null)
        {
            // A session of its own: profiling from creation would have slowed the timed comparison.
            using var options = OrtOptions(threads);
            options.EnableProfiling = true;
            options.ProfileOutputPathPrefix = Path.Combine(Path.GetTempPath(), $"emn-ort-profile-{Environment.ProcessId}");
            ort = new Microsoft.ML.OnnxRuntime.InferenceSession(OnnxExporter.Export(model), options);
        }
        bool pause = threads > 1;
        for (int i = 0; i < iterations; i++)
        {
            if (pause) Thread.Sleep(PauseMs);
            ours.Run();
            ours.RunProfiled(ticks.AsSpan(i * ops, ops));
            if (ort is null) continue;
            if (pause) Thread.Sleep(PauseMs);
            using (ort.Run(inputs!)) { }
            using var r = ort.Run(inputs!);
        }
        var oursMedians = new List<(string Name, double Ms)>(ops);
        for (int o = 0; o < ops; o++)
        {
            var samples = new double[iterations];
            for (int i = 0; i < iterations; i++) samples[i] = ticks[i * ops + o] * 1000.0 / Stopwatch.Frequency;
            oursMedians.Add((ours.Model.Operators[o].Name, Median(samples)));
        }
        List<(string Name, double Ms)> nodes = [];
        if (ort is not null)
        {
            string file = ort.EndProfiling();
            ort.Dispose();
            nodes = OrtNodeMedians(file);
            File.Delete(file);
        }
        var rows = LayerAlignment.Align(oursMedians, nodes);
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"  {"ours",-28} {"ms",7}   {"ORT node (the slowest, +others of the layer)",-48} {"ms",7} {"ORT/ours",8}"));
        foreach (var r in rows)
        {
            string node = r.OrtNodes > 1 ? $"{r.Ort} +{r.OrtNodes - 1}" : r.Ort;
            Console.WriteLine(string.Create(inv, $"  {r.Ours,-28} {Ms(r.OursMs),7}   {node,-48} {Ms(r.OrtMs),7} {Ratio(r.Ratio),8}"));
        }
        // A row one engine has no node for (ORT's quantize and transpose nodes, say) stays blank on that side.
        static string Ms(double ms) => double.IsNaN(ms) ? "" : ms.ToString("F3", CultureInfo.InvariantCulture);
        static string Ratio(double ratio) => double.IsNaN(ratio) ? "" : ratio.ToString("F2", CultureInfo.InvariantCulture);
        Console.WriteLine(string.Create(inv, $"  {"sum",-28} {oursMedians.Sum(r => r.Ms),7:F3}   {"",-48} {nodes.Sum(r => r.Ms),7:F3}"));
    }

    /// <summary>
    /// Median kernel time of each node in ORT's profile (Chrome trace JSON, "Node" events named NAME_kernel_time),
    /// leaving out the nodes of the warm-up runs 0, 2, 4... ("model_run" events).
    /// </summary>
    private static List<(string Name, double Ms)> OrtNodeMedians(string file)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(file));
        var skipped = doc.RootElement.EnumerateArray()
            .Where(e => e.GetProperty("cat").GetString() == "Session" && e.GetProperty("name").GetString() == "model_run")
            .Select(e => (Start: e.GetProperty("ts").GetDouble(), End: e.GetProperty("ts").GetDouble() + e.GetProperty("dur").GetDouble()))
            .OrderBy(run => run.Start).Where((_, index) => index % 2 == 0).ToList();
        var order = new List<string>();
        var samples = new Dictionary<string, List<double>>();
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            if (e.GetProperty("cat").GetString() != "Node") continue;
            double ts = e.GetProperty("ts").GetDouble();
            if (skipped.Any(run => ts >= run.Start && ts <= run.End)) continue;
            string name = e.GetProperty("name").GetString()!;
            if (!name.EndsWith("_kernel_time", StringComparison.Ordinal)) continue;
            name = name[..^"_kernel_time".Length];
            if (!samples.TryGetValue(name, out var list)) { samples[name] = list = []; order.Add(name); }
            list.Add(e.GetProperty("dur").GetDouble() / 1000.0);
        }
        return order.Select(n => (n, Median(samples[n].ToArray()))).ToList();
    }

    private static Microsoft.ML.OnnxRuntime.SessionOptions OrtOptions(int threads) => new()
    {
        IntraOpNumThreads = threads,
        InterOpNumThreads = 1,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
    };

    private static List<NamedOnnxValue> OrtInputs(Microsoft.ML.OnnxRuntime.InferenceSession ort, Random random)
    {
        var input = ort.InputMetadata.First();
        var dims = input.Value.Dimensions.Select(d => d < 0 ? 1 : d).ToArray();
        int count = dims.Aggregate(1, (a, b) => a * b);
        return input.Value.ElementType == typeof(sbyte)
            ? [NamedOnnxValue.CreateFromTensor(input.Key, new DenseTensor<sbyte>(Enumerable.Range(0, count).Select(_ => (sbyte)random.Next(-128, 128)).ToArray(), dims))]
            : [NamedOnnxValue.CreateFromTensor(input.Key, new DenseTensor<float>(Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), dims))];
    }

    private const int PauseMs = 100;

    /// <summary>One engine's turn: (after a pause, for a pool's first run after idling) a warm-up run, then a timed one.</summary>
    internal static double Turn(Action run, bool pause)
    {
        if (pause) Thread.Sleep(PauseMs);
        run();
        return Time(run);
    }

    private static double Time(Action run)
    {
        long start = Stopwatch.GetTimestamp();
        run();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    internal static double Median(double[] values)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        return sorted[sorted.Length / 2];
    }
}
