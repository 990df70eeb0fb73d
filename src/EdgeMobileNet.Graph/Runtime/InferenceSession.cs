using System.Buffers;
using System.Diagnostics;
using System.Runtime.InteropServices;
using EdgeMobileNet.Format;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Analysis;
using EdgeMobileNet.Graph.Operators;
using EdgeMobileNet.Graph.Planning;
using EdgeMobileNet.Kernels.Dispatch;

namespace EdgeMobileNet.Graph.Runtime;

/// <summary>
/// A model ready to run: validated, every activation placed in one planned arena, constants pinned
/// where they are (for a memory-mapped file, in the mapping), every operator prepared with its kernel.
/// <see cref="Run"/> allocates nothing. Not thread-safe: one session runs one inference at a time.
/// </summary>
public sealed unsafe class InferenceSession : IDisposable
{
    private readonly PreparedOperator[] _operators;
    private readonly TensorBuffer[] _buffers;
    private readonly List<MemoryHandle> _pins = [];
    private readonly byte* _arena;
    private readonly WorkerPool? _pool;
    private bool _disposed;

    private InferenceSession(ModelDefinition model, SessionOptions options)
    {
        Model = model;
        SourceName = options.SourceName;
        GraphValidator.Validate(model, SourceName);
        Kernels = KernelRegistry.Select(options.Isa);
        if (options.Threads < 1) throw new ArgumentOutOfRangeException(nameof(options), options.Threads, "Threads must be at least 1");

        var planner = new MemoryPlanner();
        int[] bufferOf = PlanActivations(model, planner);
        ArenaBytes = planner.ArenaSize;
        UnplannedBytes = planner.UnplannedSize;
        _arena = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(ArenaBytes, MemoryPlanner.Alignment), MemoryPlanner.Alignment);
        NativeMemory.Clear(_arena, (nuint)Math.Max(ArenaBytes, MemoryPlanner.Alignment));

        try
        {
            _buffers = new TensorBuffer[model.Tensors.Count];
            for (int t = 0; t < model.Tensors.Count; t++)
            {
                var tensor = model.Tensors[t];
                if (tensor.Data is { } data)
                {
                    var pin = data.Pin();
                    _pins.Add(pin);
                    _buffers[t] = new TensorBuffer((byte*)pin.Pointer, data.Length);
                }
                else if (bufferOf[t] >= 0)
                {
                    _buffers[t] = new TensorBuffer(_arena + planner.OffsetOf(bufferOf[t]), checked((int)tensor.ByteLength));
                }
            }

            if (options.Threads > 1 && Kernels != KernelSet.Reference) _pool = new WorkerPool(options.Threads, options.MinParallelMultAdds);
            _operators = new PreparedOperator[model.Operators.Count];
            for (int i = 0; i < _operators.Length; i++)
                _operators[i] = OperatorFactory.Create(new OperatorBinding(model, model.Operators[i], i, Kernels, t => _buffers[t], _pool));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Validates and prepares <paramref name="model"/>; throws <see cref="ModelFormatException"/> for an invalid graph.</summary>
    public static InferenceSession Create(ModelDefinition model, SessionOptions? options = null) =>
        new(model, options ?? new SessionOptions());

    public ModelDefinition Model { get; }
    public string SourceName { get; }
    public KernelSet Kernels { get; }

    /// <summary>Threads that actually compute (1 without a pool: one requested, or the single-threaded reference set).</summary>
    public int Threads => _pool?.Threads ?? 1;

    /// <summary>Bytes of the activation arena after planning.</summary>
    public long ArenaBytes { get; }

    /// <summary>Bytes the activations would take with no reuse.</summary>
    public long UnplannedBytes { get; }

    public IReadOnlyList<PreparedOperator> Operators => _operators;

    public int InputCount => Model.Inputs.Count;
    public int OutputCount => Model.Outputs.Count;
    public TensorDefinition InputTensor(int i) => Model.Tensors[Model.Inputs[i]];
    public TensorDefinition OutputTensor(int i) => Model.Tensors[Model.Outputs[i]];

    public Span<T> Input<T>(int i) where T : unmanaged => Buffer(Model.Inputs[i], typeof(T)).As<T>();
    public ReadOnlySpan<T> Output<T>(int i) where T : unmanaged => Buffer(Model.Outputs[i], typeof(T)).AsReadOnly<T>();
    public Span<byte> InputBytes(int i) => Buffer(Model.Inputs[i], null).Bytes;
    public ReadOnlySpan<byte> OutputBytes(int i) => Buffer(Model.Outputs[i], null).Bytes;

    /// <summary>Runs every operator in order on the current inputs.</summary>
    public void Run()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (var op in _operators) op.Run();
    }

    /// <summary>
    /// Runs <paramref name="work"/> over rows [0, <paramref name="rows"/>) on this session's threads (the caller and
    /// its pool), such as the preprocessing that writes the next input; never while <see cref="Run"/> is running.
    /// </summary>
    public void RunRows(IRowWork work, int rows)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(work);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (rows > 0) WorkerPool.Run(_pool, work, rows);
    }

    /// <summary>Runs like <see cref="Run"/> and adds each operator's elapsed Stopwatch ticks to <paramref name="ticks"/>.</summary>
    public void RunProfiled(Span<long> ticks)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (ticks.Length < _operators.Length) throw new ArgumentException($"needs {_operators.Length} entries", nameof(ticks));
        for (int i = 0; i < _operators.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            _operators[i].Run();
            ticks[i] += Stopwatch.GetTimestamp() - start;
        }
    }

    /// <summary>
    /// Runs like <see cref="Run"/> and calls <paramref name="afterOperator"/> with each operator's index
    /// right after it ran, while its outputs can still be read with <see cref="TensorBytes"/> (calibration, debugging).
    /// </summary>
    public void RunObserved(Action<int> afterOperator)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        for (int i = 0; i < _operators.Length; i++)
        {
            _operators[i].Run();
            afterOperator(i);
        }
    }

    /// <summary>The current bytes of any tensor (an activation's bytes are valid only during its lifetime).</summary>
    public ReadOnlySpan<byte> TensorBytes(int tensor) => Buffer(tensor, null).Bytes;

    private TensorBuffer Buffer(int tensor, Type? elementType)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (elementType is not null)
        {
            var expected = Model.Tensors[tensor].DataType switch
            {
                DataType.Float32 => typeof(float),
                DataType.Int8 => typeof(sbyte),
                DataType.Int32 => typeof(int),
                _ => null,
            };
            if (expected != elementType)
                throw new InvalidOperationException($"tensor '{Model.Tensors[tensor].Name}' is {Model.Tensors[tensor].DataType}, not {elementType.Name}");
        }
        return _buffers[tensor];
    }

    /// <summary>Adds one planner buffer per activation, alive from its producer to its last reader.</summary>
    private static int[] PlanActivations(ModelDefinition model, MemoryPlanner planner)
    {
        int count = model.Tensors.Count;
        int last = Math.Max(model.Operators.Count - 1, 0);
        var first = new int[count];
        var lastUse = new int[count];
        Array.Fill(first, -1);
        Array.Fill(lastUse, -1);
        foreach (int t in model.Inputs) first[t] = 0;
        for (int i = 0; i < model.Operators.Count; i++)
        {
            foreach (int t in model.Operators[i].Outputs) if (first[t] < 0) first[t] = i;
            foreach (int t in model.Operators[i].Inputs) lastUse[t] = i;
        }
        // Inputs and outputs live through the whole run: a caller may fill the input once and run
        // many times, and read outputs after Run returns.
        foreach (int t in model.Inputs) lastUse[t] = last;
        foreach (int t in model.Outputs) lastUse[t] = last;

        var bufferOf = new int[count];
        for (int t = 0; t < count; t++)
        {
            var tensor = model.Tensors[t];
            if (tensor.IsConstant || first[t] < 0) { bufferOf[t] = -1; continue; }
            if (tensor.ByteLength > int.MaxValue)
                throw new ModelFormatException($"tensor {t} '{tensor.Name}' is {tensor.ByteLength} bytes, more than one activation may take");
            bufferOf[t] = planner.AddBuffer(tensor.ByteLength, first[t], Math.Max(lastUse[t], first[t]));
        }
        return bufferOf;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _pool?.Dispose();
        foreach (var pin in _pins) pin.Dispose();
        _pins.Clear();
        if (_arena != null) NativeMemory.AlignedFree(_arena);
    }
}
