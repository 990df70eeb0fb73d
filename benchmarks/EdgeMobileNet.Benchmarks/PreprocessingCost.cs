using System.Diagnostics;
using System.Globalization;
using EdgeMobileNet.Edge.Frames;
using EdgeMobileNet.Edge.Imaging;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Runtime;
using EdgeMobileNet.Zoo;

namespace EdgeMobileNet.Benchmarks;

/// <summary>
/// <c>preprocess</c>: the camera-to-tensor pass against the inference it feeds, in one run: YUYV 640x480 (the
/// common USB camera mode) and I420 640x480 (rpicam-vid) to MobileNet V1 1.0-224's int8 input (crop, resize,
/// colour conversion, quantization in one pass), then that model's inference on 1 thread. Prints both medians
/// and their ratio, the one-pixel-at-a-time reference pass in the same run (the vector path's speed-up over it),
/// and the pass with its rows shared over a session of every core (as the edge loop runs it).
/// </summary>
public static class PreprocessingCost
{
    public static int Run()
    {
        var f32 = MobileNetV1.Build(1.0f, 224);
        var model = PostTrainingQuantizer.Quantize(f32, PostTrainingQuantizer.SyntheticCalibration(f32, 2, 3));
        using var session = InferenceSession.Create(model, new SessionOptions { Threads = 1 });
        using var allThreads = InferenceSession.Create(model, new SessionOptions { Threads = Environment.ProcessorCount }); // every core, as the edge loop's default
        double inference = Median(session.Run, 20);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"inference  MobileNet V1 1.0-224 int8, 1 thread, {session.Kernels.Name}: median {inference:F3} ms"));
        foreach (var format in new[] { PixelFormat.Yuyv, PixelFormat.I420 })
        {
            var frame = Pattern(format, 640, 480);
            var pre = new FramePreprocessor(model.InputContract!, session.InputTensor(0));
            var reference = new FramePreprocessor(model.InputContract!, session.InputTensor(0), reference: true);
            double ms = 0, referenceMs = 0;
            for (int turn = 0; turn < 3; turn++) // in turns, so a slow spell of this machine hits both
            {
                ms += Median(() => pre.WriteInt8(frame, session.Input<sbyte>(0)), 100);
                referenceMs += Median(() => reference.WriteInt8(frame, session.Input<sbyte>(0)), 100);
            }
            ms /= 3;
            referenceMs /= 3;
            double shared = Median(() => pre.WriteInt8(frame, allThreads.Input<sbyte>(0), allThreads), 200);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"preprocess {format} 640x480 -> 224x224x3 int8: median {ms:F3} ms = {ms / inference:P2} of the inference " +
                $"(reference path {referenceMs:F3} ms, {referenceMs / ms:F2}x); on {allThreads.Threads} threads (the edge loop's) {shared:F3} ms"));
        }
        return 0;
    }

    /// <summary>A frame of smooth gradients (the values do not change the cost; every byte is read).</summary>
    private static FrameBuffer Pattern(PixelFormat format, int width, int height)
    {
        var frame = new FrameBuffer();
        int stride = FrameBuffer.MinimumStride(format, width);
        var data = frame.Prepare(format, width, height, stride, FrameBuffer.RequiredBytes(format, width, height, stride));
        for (int i = 0; i < data.Length; i++) data[i] = (byte)(i * 7 + i / 640);
        return frame;
    }

    private static double Median(Action run, int iterations)
    {
        for (int i = 0; i < 5; i++) run();
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
