using EdgeMobileNet.Format;
using EdgeMobileNet.Format.Io;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Kernels;
using EdgeMobileNet.Kernels.Reference;
using EdgeMobileNet.Zoo;
using Xunit;

namespace EdgeMobileNet.Tests.Graph;

public class InferenceSessionTests
{
    public static TheoryData<string, bool> Models => new()
    {
        { "v1", false }, { "v1", true }, { "v2", false }, { "v2", true },
    };

    private static ModelDefinition Build(string arch, bool int8, int classes = 1000)
    {
        var f32 = arch == "v1" ? MobileNetV1.Build(0.25f, 96, classes) : MobileNetV2.Build(0.35f, 64, classes);
        return int8 ? PostTrainingQuantizer.Quantize(f32, PostTrainingQuantizer.SyntheticCalibration(f32, 2, 5)) : f32;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void SteadyStateRunAllocatesNothing(string arch, bool int8)
    {
        using var session = InferenceSession.Create(Build(arch, int8));
        session.Run();
        Assert.Equal(0, AllocationMeter.SteadyStateBytes(session.Run));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void SoftmaxOutputIsADistribution(string arch, bool int8)
    {
        // 10 classes, so that int8's 1/256 steps can show the probabilities of an untrained model.
        var model = Build(arch, int8, classes: 10);
        using var session = InferenceSession.Create(model);
        var image = PostTrainingQuantizer.SyntheticCalibration(model, 1, 77).First();
        if (int8)
        {
            var q = session.InputTensor(0).Quantization!;
            F32Reference.Quantize(image, session.Input<sbyte>(0), q.Scale, q.ZeroPoint);
        }
        else image.CopyTo(session.Input<float>(0));
        session.Run();
        double sum = int8
            ? session.Output<sbyte>(0).ToArray().Sum(v => (v + 128) / 256.0)
            : session.Output<float>(0).ToArray().Sum(v => (double)v);
        // int8 softmax rounds each of 1000 probabilities to 1/256.
        Assert.InRange(sum, int8 ? 1 - 10 / 256.0 : 0.999, int8 ? 1 + 10 / 256.0 : 1.001);
    }

    [Fact]
    public void ArenaReusesMemory()
    {
        using var session = InferenceSession.Create(MobileNetV1.Build(1.0f, 224));
        // At the peak, the input (kept for the whole run), 112x112x32 and 112x112x64 floats are live at once.
        long peakLive = (224 * 224 * 3 + 112 * 112 * 32 + 112 * 112 * 64) * 4L;
        Assert.InRange(session.ArenaBytes, peakLive, peakLive + peakLive / 20);
        Assert.True(session.UnplannedBytes > 3 * session.ArenaBytes, $"no reuse {session.UnplannedBytes} vs arena {session.ArenaBytes}");
    }

    /// <summary>A hand-wired graph (conv 3x3 s2 SAME, depthwise, add, pool, FC) equals calling the kernels directly.</summary>
    [Fact]
    public void SessionWiresOperatorsLikeDirectKernelCalls()
    {
        var random = new Random(3);
        float[] Rand(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        byte[] Bytes(float[] v) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()).ToArray();

        var m = new ModelDefinition { Name = "wired" };
        int input = m.AddTensor(new TensorDefinition("in", DataType.Float32, [1, 9, 7, 3]));
        float[] w1 = Rand(5 * 3 * 3 * 3), b1 = Rand(5), w2 = Rand(9 * 5), b2 = Rand(5), w3 = Rand(4 * 5), b3 = Rand(4);
        int cw1 = m.AddTensor(new TensorDefinition("w1", DataType.Float32, [5, 3, 3, 3], null, Bytes(w1)));
        int cb1 = m.AddTensor(new TensorDefinition("b1", DataType.Float32, [5], null, Bytes(b1)));
        int cw2 = m.AddTensor(new TensorDefinition("w2", DataType.Float32, [1, 3, 3, 5], null, Bytes(w2)));
        int cb2 = m.AddTensor(new TensorDefinition("b2", DataType.Float32, [5], null, Bytes(b2)));
        int cw3 = m.AddTensor(new TensorDefinition("w3", DataType.Float32, [4, 5], null, Bytes(w3)));
        int cb3 = m.AddTensor(new TensorDefinition("b3", DataType.Float32, [4], null, Bytes(b3)));
        var (pt, pb) = ConvGeometry.SamePadding(9, 3, 2);
        var (pl, pr) = ConvGeometry.SamePadding(7, 3, 2);
        int t1 = m.AddTensor(new TensorDefinition("conv", DataType.Float32, [1, 5, 4, 5]));
        int t2 = m.AddTensor(new TensorDefinition("dw", DataType.Float32, [1, 5, 4, 5]));
        int t3 = m.AddTensor(new TensorDefinition("add", DataType.Float32, [1, 5, 4, 5]));
        int t4 = m.AddTensor(new TensorDefinition("pool", DataType.Float32, [1, 1, 1, 5]));
        int t5 = m.AddTensor(new TensorDefinition("flat", DataType.Float32, [1, 5]));
        int t6 = m.AddTensor(new TensorDefinition("fc", DataType.Float32, [1, 4]));
        m.Inputs.Add(input);
        m.Outputs.Add(t6);
        m.Operators.Add(new OperatorDefinition(OperatorType.Conv2D, [input, cw1, cb1], [t1],
            OperatorAttributes.Convolution(2, pt, pl, pb, pr, FusedActivation.Relu6), "conv"));
        m.Operators.Add(new OperatorDefinition(OperatorType.DepthwiseConv2D, [t1, cw2, cb2], [t2],
            OperatorAttributes.Convolution(1, 1, 1, 1, 1, FusedActivation.Relu, 1), "dw"));
        m.Operators.Add(new OperatorDefinition(OperatorType.Add, [t1, t2], [t3], default, "add"));
        m.Operators.Add(new OperatorDefinition(OperatorType.GlobalAveragePool, [t3], [t4], default, "pool"));
        m.Operators.Add(new OperatorDefinition(OperatorType.Reshape, [t4], [t5], default, "flat"));
        m.Operators.Add(new OperatorDefinition(OperatorType.FullyConnected, [t5, cw3, cb3], [t6], default, "fc"));

        var x = Rand(9 * 7 * 3);
        // The reference set: wiring is checked exactly (optimized sets differ from these calls by FMA rounding).
        using var session = InferenceSession.Create(EmnReader.Read(EmnWriter.Write(m), "wired"), new SessionOptions { Isa = "reference" });
        x.CopyTo(session.Input<float>(0));
        session.Run();

        var y1 = new float[5 * 4 * 5];
        F32Reference.Conv2D(new ConvGeometry(1, 9, 7, 3, 5, 4, 5, 3, 3, 2, 2, 1, 1, pt, pl), x, w1, b1, y1, 0, 6);
        var y2 = new float[5 * 4 * 5];
        F32Reference.DepthwiseConv2D(new ConvGeometry(1, 5, 4, 5, 5, 4, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1), y1, w2, b2, y2, 0, float.PositiveInfinity);
        var y3 = new float[y2.Length];
        F32Reference.Add(y1, y2, y3, float.NegativeInfinity, float.PositiveInfinity);
        var y4 = new float[5];
        F32Reference.GlobalAveragePool(1, 5, 4, 5, y3, y4);
        var y6 = new float[4];
        F32Reference.FullyConnected(1, 5, 4, y4, w3, b3, y6, float.NegativeInfinity, float.PositiveInfinity);

        Assert.Equal(y6, session.Output<float>(0).ToArray());
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void InputSurvivesRunsSoRepeatedRunsAgree(string arch, bool int8)
    {
        using var session = InferenceSession.Create(Build(arch, int8));
        var input = session.InputBytes(0);
        new Random(8).NextBytes(input);
        if (!int8) foreach (ref float v in session.Input<float>(0)) v = float.IsFinite(v) ? Math.Clamp(v, -1f, 1f) : 0f;
        byte[] before = input.ToArray();
        session.Run();
        byte[] first = session.OutputBytes(0).ToArray();
        Assert.Equal(before, session.InputBytes(0).ToArray());
        session.Run();
        Assert.Equal(first, session.OutputBytes(0).ToArray());
    }

    /// <summary>RunRows hands every row to the work once, on one thread or several; no rows is nothing, negative rows an error.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RunRowsCoversEveryRowOnce(int threads)
    {
        using var session = InferenceSession.Create(Build("v1", false), new SessionOptions { Threads = threads });
        foreach (int rows in new[] { 0, 1, 2, 7, 224 })
        {
            var work = new RowCounter(rows);
            session.RunRows(work, rows);
            Assert.All(work.Hits, h => Assert.Equal(1, h));
            Assert.Equal(rows == 0 ? 0 : 1, Math.Sign(work.Calls));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => session.RunRows(new RowCounter(0), -1));
        Assert.Throws<ArgumentNullException>(() => session.RunRows(null!, 4));
    }

    private sealed class RowCounter(int rows) : IRowWork
    {
        private int _calls;
        public int[] Hits { get; } = new int[rows];
        public int Calls => _calls;
        public void RunRows(int first, int count)
        {
            Interlocked.Increment(ref _calls);
            for (int i = first; i < first + count; i++) Interlocked.Increment(ref Hits[i]);
        }
    }

    [Fact]
    public void WrongInputTypeAccessIsAnError()
    {
        using var session = InferenceSession.Create(Build("v1", int8: true));
        Assert.Throws<InvalidOperationException>(() => session.Input<float>(0).Length);
    }

    [Fact]
    public void RunAfterDisposeThrows()
    {
        var session = InferenceSession.Create(Build("v1", int8: false));
        session.Dispose();
        Assert.Throws<ObjectDisposedException>(() => session.Run());
    }
}
