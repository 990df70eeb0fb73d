using System.Diagnostics;
using System.Globalization;
using EdgeMobileNet.Format.Io;
using EdgeMobileNet.Format.Model;

using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeMobileNet.Benchmarks;

/// <summary>
/// `ort --model X.emn [--threads N] [--iterations N] [--isa NAME]`: median latency of EdgeMobileNet and of ONNX
/// Runtime (CPU provider, all graph optimizations, intra-op threads = N) on the same model, exported with
/// EdgeMobileNet.Import's OnnxExporter. If the export or ORT fails, ORT is reported unavailable with the reason.
/// </summary>
public static class OrtComparison
{
    public static int Run(string[] args)
    {
        string? model = null, isa = null;
        int threads = Environment.ProcessorCount, iterations = 20, warmup = 3;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--model": model = args[++i]; break;
                case "--threads": threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--iterations": iterations = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--isa": isa = args[++i]; break;
                default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
            }
        }
        if (model is null) { Console.Error.WriteLine("usage: ort --model X.emn [--threads N] [--iterations N] [--isa NAME]"); return 2; }

        using var file = EmnModelFile.Open(model);
        using (var session = EdgeMobileNet.Graph.Runtime.InferenceSession.Create(file.Model, new EdgeMobileNet.Graph.Runtime.SessionOptions { Isa = isa, Threads = threads }))
        {
            var random = new Random(42);
            if (session.InputTensor(0).DataType == DataType.Float32)
                foreach (ref float v in session.Input<float>(0)) v = (float)(random.NextDouble() * 2 - 1);
            var ms = Measure(session.Run, warmup, iterations);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"edgemobilenet  {model}: kernels {session.Kernels.Name}, threads {session.Threads}, median {ms:F3} ms"));
        }

        try
        {
            byte[] onnx = EdgeMobileNet.Import.Onnx.OnnxExporter.Export(file.Model);
            using var options = new Microsoft.ML.OnnxRuntime.SessionOptions
            {
                IntraOpNumThreads = threads,
                InterOpNumThreads = 1,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            };
            using var ort = new Microsoft.ML.OnnxRuntime.InferenceSession(onnx, options);
            var input = ort.InputMetadata.First();
            var dims = input.Value.Dimensions.Select(d => d < 0 ? 1 : d).ToArray();
            var inputs = new List<NamedOnnxValue>();
            int count = dims.Aggregate(1, (a, b) => a * b);
            var random = new Random(42);
            if (input.Value.ElementType == typeof(sbyte))
                inputs.Add(NamedOnnxValue.CreateFromTensor(input.Key, new DenseTensor<sbyte>(Enumerable.Range(0, count).Select(_ => (sbyte)random.Next(-128, 128)).ToArray(), dims)));
            else
                inputs.Add(NamedOnnxValue.CreateFromTensor(input.Key, new DenseTensor<float>(Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), dims)));
            var ms = Measure(() => { using var r = ort.Run(inputs); }, warmup, iterations);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"onnxruntime    {model}: CPU provider {OrtEnv.Instance().GetVersionString()}, intra-op threads {threads}, median {ms:F3} ms"));
        }
        catch (Exception e)
        {
            Console.WriteLine($"onnxruntime    {model}: unavailable ({e.GetType().Name}: {e.Message.Split('\n')[0]})");
        }
        return 0;
    }

    private static double Measure(Action run, int warmup, int iterations)
    {
        for (int i = 0; i < warmup; i++) run();
        var times = new double[iterations];
        for (int i = 0; i < iterations; i++)
        {
            long start = Stopwatch.GetTimestamp();
            run();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[iterations / 2];
    }
}
