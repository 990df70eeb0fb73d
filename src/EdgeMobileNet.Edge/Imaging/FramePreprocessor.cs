using System.Numerics;
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
/// loop is specialized per frame layout (<see cref="IPixelReader"/>). It runs a vector of output pixels at a time
/// (<see cref="Vector{T}"/>: 8 lanes with AVX2, 4 with NEON); the one-pixel-at-a-time reference path beside it computes
/// the same tensor bit for bit and is what <see cref="PreprocessingConformance"/> checks the vector path against. The sampling tables are rebuilt
/// only when the frame size changes, so steady-state calls allocate nothing. The conversion is affine,
/// so converting after interpolating equals converting the whole frame first and resizing it. Given a session, the
/// output rows are shared out over its threads (<see cref="InferenceSession.RunRows"/>): each output value is
/// computed the same way on any thread, so the tensor does not depend on the thread count.
/// </summary>
public sealed unsafe class FramePreprocessor
{
    private readonly InputContract _contract;
    private readonly ResizeMode _mode;
    private readonly bool _int8, _reference;
    private readonly float[] _scale = new float[3], _offset = new float[3];
    private int _cachedWidth = -1, _cachedHeight = -1;
    private int[] _x0 = [], _x1 = [], _y0 = [], _y1 = [];
    private float[] _fx = [], _fy = [];
    private int _firstColumn, _endColumn; // the output columns that sample the frame; the rest are padding (letterbox)
    private int[] _columnOffsets = [];
    private long _vectorRows, _rowRanges;
    // The row work handed to a session's threads, one per frame layout and sink, kept while the layout stays the same.
    private IRowWork? _rows;

    /// <param name="reference">Use the one-pixel-at-a-time reference path instead of the vector path (for tests and benchmarks).</param>
    public FramePreprocessor(InputContract contract, TensorDefinition input, ResizeMode mode = ResizeMode.Crop, bool reference = false)
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
        _reference = reference;
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
        CheckFrameBytes(frame, reader);
        PrepareColumnOffsets(reader);
        fixed (byte* data = frame.Data)
        fixed (int* columns = _columnOffsets)
        {
            var pass = new FramePass<TReader, TSink>(reader, sink, data, columns);
            if (threads is null)
            {
                Rows(pass, 0, _contract.Height);
                return;
            }
            if (_rows is not RowWork<TReader, TSink> work) _rows = work = new RowWork<TReader, TSink>(this);
            work.Pass = pass;
            threads.RunRows(work, _contract.Height);
            work.Pass = default; // its pointers are pinned only for this call
        }
    }

    /// <summary>
    /// The vector path reads the frame through a pointer: every byte a pixel of the frame may read must be within its
    /// <see cref="FrameBuffer.Length"/> (the reference path's array reads would only stop at the buffer's end).
    /// </summary>
    private static void CheckFrameBytes<TReader>(FrameBuffer frame, in TReader reader) where TReader : struct, IPixelReader
    {
        reader.RowStarts(frame.Height - 1, out int r0, out int r1, out int r2);
        reader.ColumnOffsets(frame.Width - 1, out int o0, out int o1, out int o2);
        long needed = Math.Max((long)r0 + o0, Math.Max((long)r1 + o1, (long)r2 + o2)) + 1;
        if (needed > frame.Length)
            throw new ArgumentException($"a {frame.Width}x{frame.Height} {frame.Format} frame with stride {frame.Stride} needs {needed} bytes; this one holds {frame.Length}");
    }

    /// <summary>Each output column's sampled neighbours' column offsets (<see cref="IPixelReader.ColumnOffsets"/>): left's three, then right's.</summary>
    private void PrepareColumnOffsets<TReader>(in TReader reader) where TReader : struct, IPixelReader
    {
        int w = _contract.Width;
        if (_columnOffsets.Length != 6 * w) _columnOffsets = new int[6 * w];
        for (int x = _firstColumn; x < _endColumn; x++)
        {
            var o = _columnOffsets.AsSpan(6 * x, 6);
            reader.ColumnOffsets(_x0[x], out o[0], out o[1], out o[2]);
            reader.ColumnOffsets(_x1[x], out o[3], out o[4], out o[5]);
        }
    }

    /// <summary>One frame's pass: its reader, the tensor's sink, the frame's bytes and column offsets, pinned for the call.</summary>
    private readonly struct FramePass<TReader, TSink>(TReader reader, TSink sink, byte* data, int* columns)
        where TReader : struct, IPixelReader
        where TSink : struct, IValueSink
    {
        public readonly TReader Reader = reader;
        public readonly TSink Sink = sink;
        public readonly byte* Data = data;
        public readonly int* Columns = columns;
    }

    /// <summary>Output rows [<paramref name="yStart"/>, <paramref name="yEnd"/>) of the current frame.</summary>
    private void Rows<TReader, TSink>(in FramePass<TReader, TSink> pass, int yStart, int yEnd)
        where TReader : struct, IPixelReader
        where TSink : struct, IValueSink
    {
        Interlocked.Increment(ref _rowRanges);
        if (_reference)
        {
            ReferenceRows(pass.Reader, pass.Sink, yStart, yEnd);
            return;
        }
        if (_contract.Channels == 1) VectorRows<TReader, TSink, GrayComponents>(pass, yStart, yEnd);
        else VectorRows<TReader, TSink, ColourComponents>(pass, yStart, yEnd);
        Interlocked.Add(ref _vectorRows, yEnd - yStart); // once per row range (a few per frame)
    }

    /// <summary>Output rows the vector path has written so far: so a check can tell it really ran, not the reference twice.</summary>
    internal long VectorRowsWritten => Interlocked.Read(ref _vectorRows);

    /// <summary>Row ranges run so far (one per frame without a session): so a check can tell a session's threads were handed the rows.</summary>
    internal long RowRangesRun => Interlocked.Read(ref _rowRanges);

    /// <summary>
    /// Output pixels per staged chunk of <see cref="VectorRows"/>: a whole number of vectors on every ISA, small enough
    /// that the chunk's staged components (12 ints per pixel) stay on the stack.
    /// </summary>
    private const int ChunkPixels = 64;

    /// <summary>
    /// The vector path: per output row, the padding columns one by one and the sampled columns in chunks. A chunk first
    /// gathers each pixel's four neighbours' components into planes (scalar byte loads at precomputed row starts and
    /// column offsets: NEON has no gather), then interpolates, converts and maps a vector of pixels at a time, the
    /// same operations in the same order per lane as <see cref="ReferenceRows"/> (so the tensor is the same bit for bit),
    /// and last interleaves the channels into the tensor.
    /// </summary>
    [SkipLocalsInit]
    private void VectorRows<TReader, TSink, TComponents>(in FramePass<TReader, TSink> pass, int yStart, int yEnd)
        where TReader : struct, IPixelReader
        where TSink : struct, IValueSink
        where TComponents : struct, IComponents
    {
        int w = _contract.Width, n = TComponents.Count; // n: the contract's channels (Rows picks the components by them)
        bool bgr = _contract.ColorOrder == ColorOrder.Bgr;
        var reader = pass.Reader;
        var sink = pass.Sink;
        // Neighbour planes: component k of the top-left, top-right, bottom-left, bottom-right neighbours at 4k..4k+3
        // (ChunkPixels each); lanes past a short chunk hold stale values, computed and never stored.
        int* staged = stackalloc int[4 * 3 * ChunkPixels];
        float* fx = stackalloc float[ChunkPixels];
        int* mapped = stackalloc int[3 * ChunkPixels]; // 32-bit values of the tensor's kind (IValueSink.Map)
        for (int y = yStart; y < yEnd; y++)
        {
            int row = y * w * n, y0 = _y0[y], y1 = _y1[y];
            if (y0 < 0)
            {
                PadColumns(sink, row, 0, w);
                continue;
            }
            PadColumns(sink, row, 0, _firstColumn);
            PadColumns(sink, row, _endColumn, w);
            var fy = new Vector<float>(_fy[y]);
            var rows = NeighbourRows.Of(reader, y0, y1);
            for (int x = _firstColumn; x < _endColumn; x += ChunkPixels)
            {
                int count = Math.Min(ChunkPixels, _endColumn - x);
                _fx.AsSpan(x, count).CopyTo(new Span<float>(fx, count));
                TComponents.Stage(reader, pass.Data, rows, pass.Columns + 6 * x, _x0.AsSpan(x, count), _x1.AsSpan(x, count), y0, y1, staged);
                for (int i = 0; i < count; i += Vector<float>.Count)
                {
                    var f = Vector.Load(fx + i);
                    var c0 = Bilinear(staged + i, f, fy);
                    if (n == 1)
                    {
                        sink.Map(0, c0, mapped + i);
                        continue;
                    }
                    var c1 = Bilinear(staged + 4 * ChunkPixels + i, f, fy);
                    var c2 = Bilinear(staged + 8 * ChunkPixels + i, f, fy);
                    reader.ToRgb(c0, c1, c2, out var r, out var g, out var b);
                    if (bgr) (r, b) = (b, r);
                    sink.Map(0, r, mapped + i);
                    sink.Map(1, g, mapped + ChunkPixels + i);
                    sink.Map(2, b, mapped + 2 * ChunkPixels + i);
                }
                sink.Interleave(row + x * n, mapped, count, n);
            }
        }
    }

    /// <summary>
    /// One component's bilinear blend for a vector of pixels from its four neighbour planes (<see cref="ChunkPixels"/>
    /// apart), as <see cref="Bilinear(int, int, int, int, float, float)"/> computes it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Bilinear(int* planes, Vector<float> fx, Vector<float> fy)
    {
        var p00 = Vector.Load(planes);
        var p01 = Vector.Load(planes + ChunkPixels);
        var p10 = Vector.Load(planes + 2 * ChunkPixels);
        var p11 = Vector.Load(planes + 3 * ChunkPixels);
        var top = Vector.ConvertToSingle(p00) + Vector.ConvertToSingle(p01 - p00) * fx;
        var bottom = Vector.ConvertToSingle(p10) + Vector.ConvertToSingle(p11 - p10) * fx;
        return top + (bottom - top) * fy;
    }

    /// <summary>Output pixels [<paramref name="from"/>, <paramref name="to"/>) of a row are padding: the contract's mean.</summary>
    private void PadColumns<TSink>(in TSink sink, int row, int from, int to) where TSink : struct, IValueSink
    {
        int c = _contract.Channels;
        for (int x = from; x < to; x++)
            for (int k = 0; k < c; k++) sink.Write(row + x * c + k, k, _contract.Mean[k]);
    }

    /// <summary>The row starts (<see cref="IPixelReader.RowStarts"/>) of the two frame rows an output row samples.</summary>
    private readonly struct NeighbourRows(int top0, int top1, int top2, int bottom0, int bottom1, int bottom2)
    {
        public readonly int Top0 = top0, Top1 = top1, Top2 = top2, Bottom0 = bottom0, Bottom1 = bottom1, Bottom2 = bottom2;

        public static NeighbourRows Of<TReader>(in TReader reader, int y0, int y1) where TReader : struct, IPixelReader
        {
            reader.RowStarts(y0, out int t0, out int t1, out int t2);
            reader.RowStarts(y1, out int b0, out int b1, out int b2);
            return new NeighbourRows(t0, t1, t2, b0, b1, b2);
        }
    }

    /// <summary>What <see cref="VectorRows"/> stages per pixel: the stored components (colour) or the gray value.</summary>
    private interface IComponents
    {
        static abstract int Count { get; }

        /// <summary>
        /// Writes the four neighbours' components of a chunk's output pixels into the neighbour planes at
        /// <paramref name="planes"/>: from the frame's bytes at the rows' starts plus each pixel's six
        /// <paramref name="columns"/> offsets, or through the reader at columns <paramref name="x0"/>, <paramref name="x1"/>
        /// of rows <paramref name="y0"/>, <paramref name="y1"/>.
        /// </summary>
        static abstract void Stage<TReader>(in TReader reader, byte* data, in NeighbourRows rows, int* columns,
            ReadOnlySpan<int> x0, ReadOnlySpan<int> x1, int y0, int y1, int* planes) where TReader : struct, IPixelReader;
    }

    /// <summary>The stored components, read straight from the frame's bytes (12 loads a pixel, no index checks: the frame's length was checked).</summary>
    private readonly struct ColourComponents : IComponents
    {
        public static int Count => 3;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Stage<TReader>(in TReader reader, byte* data, in NeighbourRows rows, int* columns,
            ReadOnlySpan<int> x0, ReadOnlySpan<int> x1, int y0, int y1, int* planes) where TReader : struct, IPixelReader
        {
            const int P = ChunkPixels;
            // Locals, so the stores through the planes pointer cannot make the JIT reload them.
            byte* top0 = data + rows.Top0, top1 = data + rows.Top1, top2 = data + rows.Top2;
            byte* bottom0 = data + rows.Bottom0, bottom1 = data + rows.Bottom1, bottom2 = data + rows.Bottom2;
            for (int i = 0, count = x0.Length; i < count; i++, columns += 6, planes++)
            {
                int left0 = columns[0], left1 = columns[1], left2 = columns[2], right0 = columns[3], right1 = columns[4], right2 = columns[5];
                planes[0] = top0[left0];
                planes[P] = top0[right0];
                planes[2 * P] = bottom0[left0];
                planes[3 * P] = bottom0[right0];
                planes[4 * P] = top1[left1];
                planes[5 * P] = top1[right1];
                planes[6 * P] = bottom1[left1];
                planes[7 * P] = bottom1[right1];
                planes[8 * P] = top2[left2];
                planes[9 * P] = top2[right2];
                planes[10 * P] = bottom2[left2];
                planes[11 * P] = bottom2[right2];
            }
        }
    }

    /// <summary>The gray value through the reader (its conversion to gray comes before the blend, as on the reference path).</summary>
    private readonly struct GrayComponents : IComponents
    {
        public static int Count => 1;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Stage<TReader>(in TReader reader, byte* data, in NeighbourRows rows, int* columns,
            ReadOnlySpan<int> x0, ReadOnlySpan<int> x1, int y0, int y1, int* planes) where TReader : struct, IPixelReader
        {
            const int P = ChunkPixels;
            for (int i = 0; i < x0.Length; i++, planes++)
            {
                planes[0] = reader.ReadGray(x0[i], y0);
                planes[P] = reader.ReadGray(x1[i], y0);
                planes[2 * P] = reader.ReadGray(x0[i], y1);
                planes[3 * P] = reader.ReadGray(x1[i], y1);
            }
        }
    }

    /// <summary>
    /// The readable reference: one output pixel at a time, each neighbour read, blended, converted and mapped in turn.
    /// The vector path is checked against it bit for bit.
    /// </summary>
    private void ReferenceRows<TReader, TSink>(in TReader reader, in TSink sink, int yStart, int yEnd)
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
        // SamplingAxis pads only the two ends of an axis.
        _firstColumn = Array.FindIndex(_x0, i => i >= 0);
        _endColumn = Array.FindLastIndex(_x0, i => i >= 0) + 1;
        _cachedWidth = width;
        _cachedHeight = height;
    }

    /// <summary>One frame's rows for the session's threads: the reader and sink of the frame being written.</summary>
    private sealed class RowWork<TReader, TSink>(FramePreprocessor owner) : IRowWork
        where TReader : struct, IPixelReader
        where TSink : struct, IValueSink
    {
        public FramePass<TReader, TSink> Pass;

        public void RunRows(int first, int count) => owner.Rows(Pass, first, first + count);
    }

    /// <summary>Where tensor values go: the contract's normalization (f32) or also the input's quantization (int8).</summary>
    private interface IValueSink
    {
        /// <summary>Maps one pixel value of a channel and writes it (the reference path and padding).</summary>
        void Write(int index, int channel, float pixel);

        /// <summary>
        /// Maps a vector of one channel's pixel values and stores the results at <paramref name="plane"/>, as 32-bit values
        /// of the tensor's kind (f32: floats; int8: rounded and clamped, as ints).
        /// </summary>
        void Map(int channel, Vector<float> pixels, void* plane);

        /// <summary>
        /// Writes <paramref name="count"/> pixels of mapped values from <paramref name="channels"/> (1 or 3) planes
        /// <see cref="ChunkPixels"/> apart, interleaved, from tensor element <paramref name="index"/>.
        /// </summary>
        void Interleave(int index, void* planes, int count, int channels);
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

        /// <summary><see cref="Apply(int, float)"/> per lane: a multiply and an add, not fused, as the scalar form.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<float> Apply(int channel, Vector<float> pixels) => channel switch
        {
            0 => pixels * _s0 + new Vector<float>(_o0),
            1 => pixels * _s1 + new Vector<float>(_o1),
            _ => pixels * _s2 + new Vector<float>(_o2),
        };
    }

    /// <summary>Writes into a tensor pinned for the duration of one Write call (its length checked against the contract).</summary>
    private readonly struct F32Sink(float* tensor, float[] scale, float[] offset) : IValueSink
    {
        private readonly ChannelAffine _affine = new(scale, offset);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Write(int index, int channel, float pixel) => tensor[index] = _affine.Apply(channel, pixel);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Map(int channel, Vector<float> pixels, void* plane) => Vector.Store(_affine.Apply(channel, pixels), (float*)plane);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Interleave(int index, void* planes, int count, int channels) =>
            Interleaver.Write(tensor + index, (float*)planes, count, channels);
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

        /// <summary>As <see cref="Write"/>: rounded, then clamped, then (whole numbers in range) converted to int.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Map(int channel, Vector<float> pixels, void* plane)
        {
            var q = Vector.ClampNative(RoundHalfAwayFromZero(_affine.Apply(channel, pixels)), new Vector<float>(-128f), new Vector<float>(127f));
            Vector.Store(Vector.ConvertToInt32(q), (int*)plane);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Interleave(int index, void* planes, int count, int channels) =>
            Interleaver.Write(tensor + index, (int*)planes, count, channels);
    }

    /// <summary>Planes of 32-bit values to interleaved tensor elements, the three-channel case unrolled.</summary>
    private static class Interleaver
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Write(float* t, float* planes, int count, int channels)
        {
            if (channels == 1)
            {
                new ReadOnlySpan<float>(planes, count).CopyTo(new Span<float>(t, count));
                return;
            }
            for (int i = 0; i < count; i++, t += 3)
            {
                t[0] = planes[i];
                t[1] = planes[ChunkPixels + i];
                t[2] = planes[2 * ChunkPixels + i];
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Write(sbyte* t, int* planes, int count, int channels)
        {
            if (channels == 1)
            {
                for (int i = 0; i < count; i++) t[i] = (sbyte)planes[i];
                return;
            }
            for (int i = 0; i < count; i++, t += 3)
            {
                t[0] = (sbyte)planes[i];
                t[1] = (sbyte)planes[ChunkPixels + i];
                t[2] = (sbyte)planes[2 * ChunkPixels + i];
            }
        }
    }

    /// <summary>
    /// <see cref="MathF.Round(float, MidpointRounding)"/> away from zero per lane: the truncation, plus one step away from
    /// zero where the dropped fraction (exact: x and its truncation differ only in bits below the point) is at least a half.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector<float> RoundHalfAwayFromZero(Vector<float> x)
    {
        var whole = Vector.Truncate(x);
        var fraction = x - whole;
        var half = new Vector<float>(0.5f);
        var up = Vector.ConditionalSelect(Vector.GreaterThanOrEqual(fraction, half), Vector<float>.One, Vector<float>.Zero);
        var down = Vector.ConditionalSelect(Vector.LessThanOrEqual(fraction, -half), Vector<float>.One, Vector<float>.Zero);
        return whole + up - down;
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
