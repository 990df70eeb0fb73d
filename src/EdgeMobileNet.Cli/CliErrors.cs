namespace EdgeMobileNet.Cli;

/// <summary>Process exit codes: each failure class has its own.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary>Generic failure reported by a command (e.g. selftest checks failed).</summary>
    public const int Failed = 1;
    /// <summary>The command line is wrong: unknown option, missing argument, value out of range.</summary>
    public const int Usage = 2;
    /// <summary>An input file (model, image, labels) is missing, unreadable, corrupt or unsuitable.</summary>
    public const int BadInput = 3;
    /// <summary>Anything else that went wrong while running.</summary>
    public const int RuntimeFailure = 4;
}

/// <summary>A wrong command-line value found after parsing (exit code 2).</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>An input file that cannot be used (exit code 3).</summary>
public sealed class BadInputException(string message, Exception? inner = null) : Exception(message, inner);
