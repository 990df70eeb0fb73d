using System.CommandLine;
using EdgeMobileNet.Cli.SelfTest;

namespace EdgeMobileNet.Cli.Commands;

/// <summary>edgemobilenet selftest: the kernel and model checks, runnable inside the native binary (and under QEMU).</summary>
public static class SelfTestCommand
{
    public static Command Create(CliContext cli)
    {
        var quick = new Option<bool>("--quick") { Description = "Fewer generated cases (for slow emulators)" };
        var seed = new Option<int>("--seed") { Description = "Seed for generated cases", DefaultValueFactory = _ => 1234 };
        var command = new Command("selftest", "Check every kernel set against the reference, and whole models end to end") { quick, seed };
        command.SetAction(parse =>
        {
            cli.Out.WriteLine($"cpu: {SelfTestChecks.CpuDescription()}");
            var runner = new SelfTestRunner(cli.Out);
            SelfTestChecks.RunAll(runner, cli.Out, parse.GetValue(quick), parse.GetValue(seed));
            cli.Out.WriteLine($"selftest: {runner.Passed} passed, {runner.Failed} failed");
            return runner.Failed == 0 ? ExitCodes.Success : ExitCodes.Failed;
        });
        return command;
    }
}
