namespace EdgeMobileNet.Cli;

public static class Program
{
    public static int Main(string[] args) => CommandLineApp.Run(args);
}
