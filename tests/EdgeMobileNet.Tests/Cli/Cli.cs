using EdgeMobileNet.Cli;

namespace EdgeMobileNet.Tests.Cli;

/// <summary>Runs the edgemobilenet command line in-process and captures what it printed.</summary>
internal static class Cli
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CommandLineApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
