using BenchmarkDotNet.Attributes;
using EdgeMobileNet.Kernels;
using EdgeMobileNet.Kernels.Conformance;
using EdgeMobileNet.Kernels.Dispatch;
using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Benchmarks;

/// <summary>
/// One prepared kernel per family on real MobileNet V1 1.0-224 layer shapes, for every kernel set this CPU runs
/// (the reference set only on the small shapes: it is ~30x slower). Single thread, whole output.
/// </summary>
[MemoryDiagnoser]
public class KernelBenchmarks
{
    public static IEnumerable<string> Sets => KernelRegistry.Supported.Select(s => s.Name);

    /// <summary>Layer: name = (kind, geometry).</summary>
    public static IEnumerable<string> Layers =>
    [
        "conv0-3x3s2-224x224x3-32",
        "pw-112x112x32-64",
        "pw-56x56x128-128",
        "pw-14x14x512-512",
        "pw-7x7x1024-1024",
        "dw-112x112x64-s2",
        "dw-14x14x512-s1",
        "fc-1024-1000",
    ];

    [ParamsSource(nameof(Sets))] public string Set { get; set; } = "vector128";
    [ParamsSource(nameof(Layers))] public string Layer { get; set; } = "pw-14x14x512-512";
    [Params(false, true)] public bool Int8 { get; set; }

    private F32ConvolutionKernel? _f32;
    private Qs8ConvolutionKernel? _qs8;
    private float[] _fin = [], _fout = [];
    private sbyte[] _qin = [], _qout = [];

    [GlobalSetup]
    public void Setup()
    {
        var set = KernelRegistry.Select(Set);
        var gen = new ConformanceGenerator(7);
        var (g, kind) = Shape(Layer);
        int filterLength = kind == "dw" ? 9 * g.OutC : g.OutC * g.KernelH * g.KernelW * g.InC;
        int inputLength = g.Batch * g.InH * g.InW * g.InC, outputLength = g.Batch * g.OutH * g.OutW * g.OutC;
        if (!Int8)
        {
            var filter = gen.Floats(filterLength, 0.1f);
            var bias = gen.Floats(g.OutC);
            _f32 = kind switch
            {
                "dw" => set.F32DepthwiseConv2D(g, filter, bias, 0, 6),
                "fc" => set.F32FullyConnected(1, g.InC, g.OutC, filter, bias, float.NegativeInfinity, float.PositiveInfinity),
                _ => set.F32Conv2D(g, filter, bias, 0, 6),
            };
            _fin = gen.Floats(inputLength);
            _fout = new float[outputLength];
        }
        else
        {
            var filter = gen.Int8(filterLength, -127, 127);
            var bias = gen.Int32(g.OutC, 1 << 12);
            var p = Qs8OutputParams.FromScales(0.02, Enumerable.Repeat(0.01f, g.OutC).ToArray(), 0.1, -128, -128, 127);
            _qs8 = kind switch
            {
                "dw" => set.Qs8DepthwiseConv2D(g, 3, p, filter, bias),
                "fc" => set.Qs8FullyConnected(1, g.InC, g.OutC, 3, 0, p, filter, bias),
                _ => set.Qs8Conv2D(g, 3, p, filter, bias),
            };
            _qin = gen.Int8(inputLength);
            _qout = new sbyte[outputLength];
        }
    }

    [Benchmark]
    public void Run()
    {
        if (_f32 is not null) _f32.Run(_fin, _fout);
        else _qs8!.Run(_qin, _qout);
    }

    internal static (ConvGeometry Geometry, string Kind) Shape(string layer)
    {
        var parts = layer.Split('-');
        switch (parts[0])
        {
            case "conv0":
                return (new ConvGeometry(1, 224, 224, 3, 112, 112, 32, 3, 3, 2, 2, 1, 1, 0, 0), "conv");
            case "pw":
            {
                var d = parts[1].Split('x').Select(int.Parse).ToArray();
                int outC = int.Parse(parts[2]);
                return (new ConvGeometry(1, d[0], d[1], d[2], d[0], d[1], outC, 1, 1, 1, 1, 1, 1, 0, 0), "pw");
            }
            case "dw":
            {
                var d = parts[1].Split('x').Select(int.Parse).ToArray();
                int stride = parts[2] == "s2" ? 2 : 1;
                int outH = (d[0] + stride - 1) / stride, outW = (d[1] + stride - 1) / stride;
                var (padTop, _) = ConvGeometry.SamePadding(d[0], 3, stride);
                var (padLeft, _) = ConvGeometry.SamePadding(d[1], 3, stride);
                return (new ConvGeometry(1, d[0], d[1], d[2], outH, outW, d[2], 3, 3, stride, stride, 1, 1, padTop, padLeft), "dw");
            }
            default:
            {
                int inC = int.Parse(parts[1]), outC = int.Parse(parts[2]);
                return (FullyConnectedGeometry.Of(1, inC, outC), "fc");
            }
        }
    }
}
