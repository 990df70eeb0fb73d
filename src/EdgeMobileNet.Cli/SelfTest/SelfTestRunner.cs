using System.Diagnostics;

namespace EdgeMobileNet.Cli.SelfTest;

/// <summary>Outcome of one self-test check: passed or not, and a short detail line either way.</summary>
public readonly record struct CheckResult(bool Passed, string Detail)
{
    public static CheckResult Pass(string detail) => new(true, detail);
    public static CheckResult Fail(string detail) => new(false, detail);
    public static CheckResult FromFailures(IReadOnlyList<string> failures, string passDetail) =>
        failures.Count == 0 ? Pass(passDetail) : Fail(string.Join("; ", failures.Take(3)));
}

/// <summary>Runs named checks, prints one line each, and counts.</summary>
public sealed class SelfTestRunner(TextWriter output)
{
    public int Passed { get; private set; }
    public int Failed { get; private set; }

    public void Run(string name, Func<CheckResult> check)
    {
        var watch = Stopwatch.StartNew();
        CheckResult result;
        try
        {
            result = check();
        }
        catch (Exception e)
        {
            result = CheckResult.Fail($"threw {e.GetType().Name}: {e.Message}");
        }
        if (result.Passed) Passed++;
        else Failed++;
        output.WriteLine($"{(result.Passed ? "PASS" : "FAIL")} {name} ({watch.ElapsedMilliseconds} ms): {result.Detail}");
    }
}
