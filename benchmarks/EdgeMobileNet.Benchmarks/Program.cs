using BenchmarkDotNet.Running;
using EdgeMobileNet.Benchmarks;

// `ort ...` compares with ONNX Runtime; `int8-speedup ...` our int8 against our fp32; `peak` measures this core's MAC ceiling; `preprocess` times camera frame -> tensor against inference; anything else goes to BenchmarkDotNet (e.g. --filter '*KernelBenchmarks*').
if (args.Length > 0 && args[0] == "ort") return OrtComparison.Run(args[1..]);
if (args.Length > 0 && args[0] == "int8-speedup") return Int8Speedup.Run(args[1..]);
if (args.Length > 0 && args[0] == "peak") return PeakThroughput.Run();
if (args.Length > 0 && args[0] == "preprocess") return PreprocessingCost.Run();
BenchmarkSwitcher.FromAssembly(typeof(KernelBenchmarks).Assembly).Run(args);
return 0;
