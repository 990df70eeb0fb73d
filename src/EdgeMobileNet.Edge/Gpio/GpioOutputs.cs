using EdgeMobileNet.Edge.Rules;

namespace EdgeMobileNet.Edge.Gpio;

/// <summary>
/// The rules' output lines on one backend. Lines are claimed in their safe state; logical values are
/// turned into levels with each rule's active-low flag; writes happen only on change.
/// </summary>
public sealed class GpioOutputs : IDisposable
{
    private readonly IGpioBackend _backend;
    private readonly RuleDefinition[] _rules;
    private readonly int[] _handles;
    private readonly bool[] _logical;

    public GpioOutputs(IGpioBackend backend, IReadOnlyList<RuleDefinition> rules)
    {
        _backend = backend;
        _rules = rules.ToArray();
        _handles = new int[_rules.Length];
        _logical = new bool[_rules.Length];
        for (int i = 0; i < _rules.Length; i++)
        {
            var r = _rules[i];
            _logical[i] = r.SafeOn;
            _handles[i] = backend.OpenOutput(r.Chip, r.Line, r.SafeOn ^ r.ActiveLow, $"edgemobilenet:{r.Name}");
        }
    }

    public IGpioBackend Backend => _backend;

    public void Set(int rule, bool on)
    {
        if (_logical[rule] == on) return;
        _logical[rule] = on;
        _backend.Write(_handles[rule], on ^ _rules[rule].ActiveLow);
    }

    public bool Get(int rule) => _logical[rule];

    /// <summary>Every output to its safe state. Never throws (best effort per line).</summary>
    public Exception? AllSafe()
    {
        Exception? first = null;
        for (int i = 0; i < _rules.Length; i++)
        {
            try
            {
                _logical[i] = !_rules[i].SafeOn;
                Set(i, _rules[i].SafeOn);
            }
            catch (Exception e)
            {
                first ??= e;
            }
        }
        return first;
    }

    public void Dispose()
    {
        AllSafe();
        _backend.Dispose();
    }
}
