namespace EdgeMobileNet.Cli;

// Placeholder until the commands land.
public static class CommandLineApp
{
    public static int Run(string[] args) => 0;
}
