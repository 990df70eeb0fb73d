using System.Runtime.CompilerServices;
using EdgeMobileNet.Edge.Frames;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Runtime;

namespace EdgeMobileNet.Edge.Imaging;

/// <summary>How a frame's aspect ratio is fitted to the model's input.</summary>
public enum ResizeMode
{
    /// <summary>Central crop with the model's aspect ratio, then resize (same as ImagePreprocessor).</summary>
    Crop,
    /// <summary>Resize the whole frame, distorting the aspect ratio.</summary>
    Stretch,
    /// <summary>Resize the whole frame keeping its aspect ratio; the borders get the contract's mean (0 after normalization).</summary>
    Letterbox,
}

/// <summary>
/// One fused pass from a raw camera frame (YUYV, NV12, I420, RGB24, BGR24, GREY) to the model's NHWC
/// input tensor: each output pixel samples its four bilinear neighbours straight from the frame,
/// interpolates their stored components (Y, U, V or R, G, B), converts once to R'G'B' (BT.601, the
/// frame's range) or takes gray, reorders channels and normalizes (f32) or quantizes (int8). The
/// loop is specialized per frame layout (<see cref="IPixelReader"/>). The sampling tables are rebuilt
/// only when the frame size changes, so steady-state calls allocate nothing. The conversion is affine,
/// so converting after interpolating equals converting the whole frame first and resizing it. Given a session, the
/// output rows are shared out over its threads (<see cref="InferenceSession.RunRows"/>): each output value is
/// computed the same way on any thread, so the tensor does not depend on the thread count.
/// </summary>
public sealed unsafe class FramePreprocessor
{
    private readonly InputContract _contract;
    private readonly ResizeMode _mode;
    private readonly bool _int8;
    private readonly float[] _scale = new float[3], _offset = new float[3];
    private int _cachedWidth = -1, _cachedHeight = -1;
    private int[] _x0 = [], _x1 = [], _y0 = [], _y1 = [];
    private float[] _fx = [], _fy = [];
    // The row work handed to a session's threads, one per frame layout and sink, kept while the layout stays the same.
    private IRowWork? _rows;

    public FramePreprocessor(InputContract contract, TensorDefinition input, ResizeMode mode = ResizeMode.Crop)
    {
        if (input.Shape.Length != 4 || input.Shape[0] != 1)
            throw new ArgumentException($"input '{input.Name}' {input.ShapeText} is not a single NHWC image");
        if (input.Shape[1] != contract.Height || input.Shape[2] != contract.Width || input.Shape[3] != contract.Channels)
            throw new ArgumentException($"input contract {contract.Width}x{contract.Height}x{contract.Channels} does not match input '{input.Name}' {input.ShapeText}");
        if (contract.Channels is not (1 or 3))
            throw new ArgumentException($"input contract has {contract.Channels} channels; frames give 1 or 3");
        if (input.DataType is not (DataType.Int8 or DataType.Float32))
            throw new ArgumentException($"input '{input.Name}' is {input.DataType}; frames feed f32 or int8 inputs");
        if (input.DataType == DataType.Int8 && input.Quantization is null)
            throw new ArgumentException($"int8 input '{input.Name}' has no quantization");
        _contract = contract;
        _mode = mode;
        _int8 = input.DataType == DataType.Int8;
        // pixel -> (p - mean) / std [-> / scale + zp]: one multiply-add per value.
        for (int c = 0; c < contract.Channels; c++)
        {
            float a = 1f / contract.Std[c], b = -contract.Mean[c] / contract.Std[c];
            if (_int8)
            {
                var q = input.Quantization!;
                a /= q.Scale;
                b = b / q.Scale + q.ZeroPoint;
            }
            _scale[c] = a;
            _offset[c] = b;
        }
        Input = input;
    }

    public TensorDefinition Input { get; }
    public bool IsInt8 => _int8;

    /// <summary>Writes the frame into an f32 input tensor, on <paramref name="threads"/>' threads when given.</summary>
    public void WriteF32(FrameBuffer frame, Span<float> tensor, InferenceSession? threads = null)
    {
        CheckLength(tensor.Length);
        fixed (float* t = tensor) Run(frame, new F32Sink(t, _scale, _offset), threads);
    }

    /// <summary>Writes the frame into an int8 input tensor, on <paramref name="threads"/>' threads when given.</summary>
    public void WriteInt8(FrameBuffer frame, Span<sbyte> tensor, InferenceSession? threads = null)
    {
        CheckLength(tensor.Length);
        fixed (sbyte* t = tensor) Run(frame, new Int8Sink(t, _scale, _offset), threads);
    }

    private void CheckLength(int length)
    {
        int needed = _contract.Width * _contract.Height * _contract.Channels;
        if (length < needed) throw new ArgumentException($"the tensor holds {length} values; a {_contract.Width}x{_contract.Height}x{_contract.Channels} input needs {needed}");
    }

    /// <summary>Picks the frame layout's reader once per frame, so the pixel loop is specialized for it.</summary>
    private void Run<TSink>(FrameBuffer frame, TSink sink, InferenceSession? threads) where TSink : struct, IValueSink
    {
        switch (frame.Format)
        {
            case PixelFormat.Yuyv: Run(frame, new YuyvReader(frame), sink, threads); break;
            case PixelFormat.Nv12 or PixelFormat.I420: Run(frame, new Yuv420Reader(frame), sink, threads); break;
            case PixelFormat.Rgb24 or PixelFormat.Bgr24: Run(frame, new Rgb24Reader(frame), sink, threads); break;
            case PixelFormat.Grey: Run(frame, new GreyReader(frame), sink, threads); break;
            default: throw new ArgumentException($"{frame.Format} frames must be decoded before preprocessing");
        }
    }

    private void Run<TReader, TSink>(FrameBuffer frame, TReader reader, TSink sink, InferenceSession? threads)
        where TReader : struct, IPixelReader
        where TSink : struct, IValueSink
    {
        PrepareTables(frame.Width, frame.Height);
        if (threads is null)
        {
            Rows(reader, sink, 0, _contract.Height);
            return;
        }
        if (_rows is not RowWork<TReader, TSink> work) _rows = work = new RowWork<TReader, TSink>(this);
        work.Reader = reader;
        work.Sink = sink;
        threads.RunRows(work, _contract.Height);
    }

    /// <summary>Output rows [<paramref name="yStart"/>, <paramref name="yEnd"/>) of the current frame.</summary>
    private void Rows<TReader, TSink>(in TReader reader, in TSink sink, int yStart, int yEnd)
        where TReader : struct, IPixelReader
        where TSink : struct, IValueSink
    {
        int w = _contract.Width, c = _contract.Channels;
        bool bgr = _contract.ColorOrder == ColorOrder.Bgr;
        Span<float> pad = stackalloc float[3];
        for (int k = 0; k < c; k++) pad[k] = _contract.Mean[k];
        for (int y = yStart; y < yEnd; y++)
        {
            int y0 = _y0[y], y1 = _y1[y];
            float fy = _fy[y];
            for (int x = 0; x < w; x++)
            {
                int index = (y * w + x) * c;
                int x0 = _x0[x], x1 = _x1[x];
                if (x0 < 0 || y0 < 0)
                {
                    for (int k = 0; k < c; k++) sink.Write(index + k, k, pad[k]);
                    continue;
                }
                float fx = _fx[x];
                if (c == 1)
                {
                    float top = Lerp(reader.ReadGray(x0, y0), reader.ReadGray(x1, y0), fx);
                    float bottom = Lerp(reader.ReadGray(x0, y1), reader.ReadGray(x1, y1), fx);
                    sink.Write(index, 0, top + (bottom - top) * fy);
                    continue;
                }
                // Interpolate the stored components, then convert once (see IPixelReader.ToRgb).
                reader.ReadRaw(x0, y0, out int a00, out int b00, out int c00);
                reader.ReadRaw(x1, y0, out int a01, out int b01, out int c01);
                reader.ReadRaw(x0, y1, out int a10, out int b10, out int c10);
                reader.ReadRaw(x1, y1, out int a11, out int b11, out int c11);
                reader.ToRgb(Bilinear(a00, a01, a10, a11, fx, fy), Bilinear(b00, b01, b10, b11, fx, fy),
                    Bilinear(c00, c01, c10, c11, fx, fy), out float r, out float g, out float b);
                if (bgr)
                {
                    sink.Write(index, 0, b);
                    sink.Write(index + 1, 1, g);
                    sink.Write(index + 2, 2, r);
                }
                else
                {
                    sink.Write(index, 0, r);
                    sink.Write(index + 1, 1, g);
                    sink.Write(index + 2, 2, b);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Lerp(int a, int b, float f) => a + (b - a) * f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Bilinear(int p00, int p01, int p10, int p11, float fx, float fy)
    {
        float top = p00 + (p01 - p00) * fx;
        float bottom = p10 + (p11 - p10) * fx;
        return top + (bottom - top) * fy;
    }

    private void PrepareTables(int width, int height)
    {
        if (width == _cachedWidth && height == _cachedHeight) return;
        int outW = _contract.Width, outH = _contract.Height;
        double targetAspect = (double)outW / outH;
        switch (_mode)
        {
            case ResizeMode.Crop:
            {
                double cropW = width, cropH = height;
                if (width > height * targetAspect) cropW = height * targetAspect;
                else cropH = width / targetAspect;
                (_x0, _x1, _fx) = SamplingAxis.Build(width, cropW, outW, outW, 0);
                (_y0, _y1, _fy) = SamplingAxis.Build(height, cropH, outH, outH, 0);
                break;
            }
            case ResizeMode.Stretch:
                (_x0, _x1, _fx) = SamplingAxis.Build(width, width, outW, outW, 0);
                (_y0, _y1, _fy) = SamplingAxis.Build(height, height, outH, outH, 0);
                break;
            default:
            {
                // Fit the whole frame: the limiting axis fills the output, the other is centred.
                double scale = Math.Min((double)outW / width, (double)outH / height);
                int usedW = Math.Clamp((int)Math.Round(width * scale), 1, outW);
                int usedH = Math.Clamp((int)Math.Round(height * scale), 1, outH);
                (_x0, _x1, _fx) = SamplingAxis.Build(width, width, usedW, outW, (outW - usedW) / 2);
                (_y0, _y1, _fy) = SamplingAxis.Build(height, height, usedH, outH, (outH - usedH) / 2);
                break;
            }
        }
        _cachedWidth = width;
        _cachedHeight = height;
    }

    /// <summary>One frame's rows for the session's threads: the reader and sink of the frame being written.</summary>
    private sealed class RowWork<TReader, TSink>(FramePreprocessor owner) : IRowWork
        where TReader : struct, IPixelReader
        where TSink : struct, IValueSink
    {
        public TReader Reader;
        public TSink Sink;

        public void RunRows(int first, int count) => owner.Rows(Reader, Sink, first, first + count);
    }

    private interface IValueSink
    {
        void Write(int index, int channel, float pixel);
    }

    /// <summary>Each channel's multiply-add as fields: a write with a constant channel (the colour path's) reads no array.</summary>
    private readonly struct ChannelAffine(float[] scale, float[] offset)
    {
        private readonly float _s0 = scale[0], _s1 = scale[1], _s2 = scale[2], _o0 = offset[0], _o1 = offset[1], _o2 = offset[2];

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Apply(int channel, float pixel) => channel switch
        {
            0 => pixel * _s0 + _o0,
            1 => pixel * _s1 + _o1,
            _ => pixel * _s2 + _o2,
        };
    }

    /// <summary>Writes into a tensor pinned for the duration of one Write call (its length checked against the contract).</summary>
    private readonly struct F32Sink(float* tensor, float[] scale, float[] offset) : IValueSink
    {
        private readonly ChannelAffine _affine = new(scale, offset);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Write(int index, int channel, float pixel) => tensor[index] = _affine.Apply(channel, pixel);
    }

    private readonly struct Int8Sink(sbyte* tensor, float[] scale, float[] offset) : IValueSink
    {
        private readonly ChannelAffine _affine = new(scale, offset);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Write(int index, int channel, float pixel)
        {
            float q = MathF.Round(_affine.Apply(channel, pixel), MidpointRounding.AwayFromZero);
            tensor[index] = (sbyte)float.ClampNative(q, -128f, 127f);
        }
    }
}

/// <summary>Bilinear sample positions along one axis (pixel-centre aligned).</summary>
internal static class SamplingAxis
{
    /// <summary>
    /// Maps <paramref name="used"/> output positions starting at <paramref name="first"/> (of
    /// <paramref name="outSize"/>) onto a centred window of <paramref name="crop"/> source pixels;
    /// positions outside the used range get index -1 (padding).
    /// </summary>
    public static (int[] I0, int[] I1, float[] F) Build(int size, double crop, int used, int outSize, int first)
    {
        var i0 = new int[outSize];
        var i1 = new int[outSize];
        var f = new float[outSize];
        Array.Fill(i0, -1);
        Array.Fill(i1, -1);
        double start = (size - crop) / 2;
        double step = crop / used;
        for (int o = 0; o < used; o++)
        {
            double pos = Math.Clamp(start + (o + 0.5) * step - 0.5, 0, size - 1);
            int p0 = (int)pos;
            i0[first + o] = p0;
            i1[first + o] = Math.Min(p0 + 1, size - 1);
            f[first + o] = (float)(pos - p0);
        }
        return (i0, i1, f);
    }
}
