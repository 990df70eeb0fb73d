using System.CommandLine;
using EdgeMobileNet.Cli.Commands;
using EdgeMobileNet.Edge.Imaging;
using EdgeMobileNet.Format;
using EdgeMobileNet.Import;
using Serilog;
using Serilog.Events;

namespace EdgeMobileNet.Cli;

/// <summary>
/// The edgemobilenet command line: builds the commands, runs the chosen one and maps every failure
/// to one line on stderr and an exit code (<see cref="ExitCodes"/>); stack traces only with --verbose.
/// </summary>
public static class CommandLineApp
{
    public static readonly Option<bool> VerboseOption = new("--verbose", "-v")
    {
        Description = "Log details and print stack traces on errors",
        Recursive = true,
    };

    public static int Run(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        var root = new RootCommand("EdgeMobileNet: MobileNet V1/V2 inference (fp32 and int8) for Raspberry Pi-class boards");
        root.Options.Add(VerboseOption);
        var context = new CliContext(stdout, stderr);
        root.Subcommands.Add(GenerateCommand.Create(context));
        root.Subcommands.Add(InfoCommand.Create(context));
        root.Subcommands.Add(ClassifyCommand.Create(context));
        root.Subcommands.Add(BenchCommand.Create(context));
        root.Subcommands.Add(SelfTestCommand.Create(context));
        root.Subcommands.Add(RunCommand.Create(context));
        root.Subcommands.Add(ConvertCommand.Create(context));
        root.Subcommands.Add(InferCommand.Create(context));

        var parse = root.Parse(args);
        bool verbose = parse.GetValue(VerboseOption);
        context.Verbose = verbose;
        Log.Logger = new LoggerConfiguration()
            .MinimumLevel.Is(verbose ? LogEventLevel.Debug : LogEventLevel.Warning)
            .WriteTo.Console(standardErrorFromLevel: LogEventLevel.Verbose, formatProvider: System.Globalization.CultureInfo.InvariantCulture)
            .CreateLogger();
        try
        {
            if (parse.Errors.Count > 0)
            {
                foreach (var error in parse.Errors) stderr.WriteLine($"error: {error.Message}");
                stderr.WriteLine("Run 'edgemobilenet --help' for usage.");
                return ExitCodes.Usage;
            }
            return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            int code = e switch
            {
                UsageException or ArgumentException => ExitCodes.Usage,
                BadInputException or ModelFormatException or ImportException or ImageDecodeException or FileNotFoundException
                    or DirectoryNotFoundException or UnauthorizedAccessException or IOException => ExitCodes.BadInput,
                _ => ExitCodes.RuntimeFailure,
            };
            stderr.WriteLine($"error: {OneLine(e.Message)}");
            if (verbose) stderr.WriteLine(e.ToString());
            return code;
        }
        finally
        {
            Log.CloseAndFlush();
        }
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ");
}

/// <summary>Where commands write, and the global flags.</summary>
public sealed class CliContext(TextWriter stdout, TextWriter stderr)
{
    public TextWriter Out => stdout;
    public TextWriter Error => stderr;
    public bool Verbose { get; set; }
}
