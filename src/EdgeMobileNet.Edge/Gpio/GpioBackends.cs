using System.Device.Gpio;
using System.Device.Gpio.Drivers;
using System.Diagnostics;

namespace EdgeMobileNet.Edge.Gpio;

/// <summary>Drives output lines. Values are physical levels (active-low is applied by <see cref="GpioOutputs"/>).</summary>
public interface IGpioBackend : IDisposable
{
    string Name { get; }
    /// <summary>Claims a line as an output with an initial level; returns a handle for <see cref="Write"/>.</summary>
    int OpenOutput(string chip, int line, bool initialHigh, string consumer);
    void Write(int handle, bool high);
}

/// <summary>One level change recorded by the simulated backend.</summary>
public readonly record struct GpioTransition(double TimeMs, string Chip, int Line, bool High)
{
    public override string ToString() => $"{TimeMs:F1} ms {Chip}/{Line} -> {(High ? 1 : 0)}";
}

/// <summary>
/// A GPIO backend in memory: records every transition (time, line, level) for tests and demos. The
/// time is taken from <see cref="Clock"/> (the run loop sets it to the frame clock), else a stopwatch.
/// The transition list is preallocated and grows only past its capacity.
/// </summary>
public sealed class SimulatedGpio(int capacity = 4096) : IGpioBackend
{
    private readonly List<(string Chip, int Line)> _lines = [];
    private readonly List<bool> _levels = [];
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly Lock _lock = new();

    public string Name => "sim";
    public List<GpioTransition> Transitions { get; } = new(capacity);
    public Func<double>? Clock { get; set; }
    public bool Disposed { get; private set; }

    public int OpenOutput(string chip, int line, bool initialHigh, string consumer)
    {
        lock (_lock)
        {
            _lines.Add((chip, line));
            _levels.Add(initialHigh);
            Transitions.Add(new GpioTransition(Now(), chip, line, initialHigh));
            return _lines.Count - 1;
        }
    }

    public void Write(int handle, bool high)
    {
        lock (_lock)
        {
            if (_levels[handle] == high) return;
            _levels[handle] = high;
            var (chip, line) = _lines[handle];
            Transitions.Add(new GpioTransition(Now(), chip, line, high));
        }
    }

    public bool Level(int handle)
    {
        lock (_lock) return _levels[handle];
    }

    public GpioTransition[] Snapshot()
    {
        lock (_lock) return Transitions.ToArray();
    }

    private double Now() => Clock?.Invoke() ?? _watch.Elapsed.TotalMilliseconds;

    public void Dispose() => Disposed = true;
}

/// <summary>
/// Real lines through System.Device.Gpio's <see cref="LibGpiodDriver"/> (libgpiod, /dev/gpiochipN
/// character device). Chips are resolved by <see cref="GpioChipResolver"/>; one controller per chip.
/// </summary>
public sealed class GpiodGpio : IGpioBackend
{
    private readonly Dictionary<int, GpioController> _controllers = [];
    private readonly List<(GpioController Controller, int Line)> _handles = [];

    public string Name => "gpiod";

    public int OpenOutput(string chip, int line, bool initialHigh, string consumer)
    {
        int number = GpioChipResolver.Resolve(chip);
        if (!_controllers.TryGetValue(number, out var controller))
        {
            try
            {
                controller = new GpioController(new LibGpiodDriver(number));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new IOException($"gpiochip{number}: cannot open through libgpiod ({e.Message}); is libgpiod installed (apt install libgpiod2) and the user in group gpio?", e);
            }
            _controllers[number] = controller;
        }
        try
        {
            controller.OpenPin(line, PinMode.Output, initialHigh ? PinValue.High : PinValue.Low);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new IOException($"gpiochip{number} line {line}: cannot claim as output ({e.Message}); is it used by another program or the device tree?", e);
        }
        _handles.Add((controller, line));
        return _handles.Count - 1;
    }

    public void Write(int handle, bool high)
    {
        var (controller, line) = _handles[handle];
        controller.Write(line, high ? PinValue.High : PinValue.Low);
    }

    public void Dispose()
    {
        foreach (var controller in _controllers.Values) controller.Dispose();
        _controllers.Clear();
    }
}
