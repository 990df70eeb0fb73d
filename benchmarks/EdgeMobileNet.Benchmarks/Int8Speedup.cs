using System.Globalization;
using EdgeMobileNet.Graph.Runtime;

namespace EdgeMobileNet.Benchmarks;

/// <summary>
/// <c>int8-speedup [--models v1-1.0-224,...] [--threads 1,N] [--iterations N]</c>: each model's fp32 and int8
/// (post-training quantized) sessions in one process, taking turns (one warm-up and one timed run each, so both see
/// the same machine load): both medians and fp32 over int8, the speed-up the int8 kernels buy.
/// </summary>
public static class Int8Speedup
{
    public static int Run(string[] args)
    {
        var models = new List<string> { "v1-1.0-224", "v2-1.0-224" };
        var threads = new List<int> { 1, Environment.ProcessorCount };
        int iterations = 40;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--models": models = [.. args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries)]; break;
                case "--threads": threads = args[++i].Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture)).Distinct().ToList(); break;
                case "--iterations": iterations = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
            }
        }
        Console.WriteLine($"{"model",-12} {"threads",7} {"kernels",-10} {"fp32 ms",9} {"int8 ms",9} {"fp32/int8",10}");
        foreach (string name in models)
        {
            var fp32 = OrtComparison.Load(name + "-fp32");
            var int8 = OrtComparison.Load(name + "-int8");
            foreach (int t in threads)
            {
                using var a = InferenceSession.Create(fp32, new SessionOptions { Threads = t });
                using var b = InferenceSession.Create(int8, new SessionOptions { Threads = t });
                for (int i = 0; i < 5; i++) { a.Run(); b.Run(); }
                var ta = new double[iterations];
                var tb = new double[iterations];
                for (int i = 0; i < iterations; i++)
                {
                    ta[i] = OrtComparison.Turn(a.Run, pause: false);
                    tb[i] = OrtComparison.Turn(b.Run, pause: false);
                }
                double fa = OrtComparison.Median(ta), fb = OrtComparison.Median(tb);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-12} {t,7} {a.Kernels.Name,-10} {fa,9:F2} {fb,9:F2} {fa / fb,10:F2}"));
            }
        }
        return 0;
    }
}
