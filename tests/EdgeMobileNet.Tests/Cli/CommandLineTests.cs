using System.Text.Json;
using EdgeMobileNet.Cli;
using Xunit;

namespace EdgeMobileNet.Tests.Cli;

public sealed class CommandLineTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("emn-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => Cli.Run(args);

    private string Generate(string arch, string alpha, string resolution, bool int8)
    {
        string path = Path.Combine(_dir, $"{arch}-{alpha}-{resolution}{(int8 ? "-int8" : "")}.emn");
        var args = new List<string> { "generate", arch, "--alpha", alpha, "--resolution", resolution, "-o", path, "--calibration-images", "2" };
        if (int8) args.Add("--int8");
        var (code, _, err) = Run(args.ToArray());
        Assert.True(code == 0, err);
        return path;
    }

    [Fact]
    public void InfoJsonHasTotalsAndLayers()
    {
        string model = Generate("mobilenet-v1", "1.0", "224", int8: false);
        var (code, stdout, stderr) = Run("info", model, "--json");
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        long macs = json.RootElement.GetProperty("macs").GetInt64();
        long parameters = json.RootElement.GetProperty("params").GetInt64();
        Assert.InRange(macs, 569e6 * 0.98, 569e6 * 1.02);
        Assert.InRange(parameters, 4.2e6 * 0.98, 4.2e6 * 1.02);
        var layers = json.RootElement.GetProperty("layers");
        Assert.Equal(31, layers.GetArrayLength());
        Assert.Equal(macs, layers.EnumerateArray().Sum(l => l.GetProperty("macs").GetInt64()));
    }

    [Fact]
    public void InfoTableListsEveryLayerAndTotals()
    {
        string model = Generate("mobilenet-v2", "0.5", "96", int8: true);
        var (code, stdout, _) = Run("info", model);
        Assert.Equal(0, code);
        Assert.Contains("block_17/project", stdout);
        Assert.Contains("total", stdout);
        Assert.Contains("Conv1x1", stdout);
    }

    [Fact]
    public void ClassifyPrintsTopKForFp32AndInt8()
    {
        string image = Path.Combine(_dir, "gradient.bmp");
        TestImages.WriteBmp(image, 150, 100, (x, y) => ((byte)(x * 255 / 149), (byte)(y * 255 / 99), (byte)((x + y) % 256)));
        foreach (bool int8 in new[] { false, true })
        {
            string model = Generate("mobilenet-v1", "0.25", "128", int8);
            var (code, stdout, stderr) = Run("classify", "--model", model, "--top", "3", image);
            Assert.True(code == 0, stderr);
            var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(4, lines.Length);
            var scores = lines.Skip(1).Select(l => double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            Assert.True(scores[0] >= scores[1] && scores[1] >= scores[2], stdout);
            Assert.All(scores, s => Assert.InRange(s, 0, 1));
        }
    }

    [Fact]
    public void LabelsWithBackgroundOffsetAreAccepted()
    {
        string model = Generate("mobilenet-v1", "0.25", "128", int8: false);
        string image = Path.Combine(_dir, "flat.bmp");
        TestImages.WriteBmp(image, 64, 64, (_, _) => (90, 140, 200));
        string labels = Path.Combine(_dir, "labels.txt");
        File.WriteAllLines(labels, Enumerable.Range(0, 999).Select(i => $"label{i}"));
        var (code, stdout, stderr) = Run("classify", "--model", model, "--labels", labels, image);
        Assert.True(code == 0, stderr);
        Assert.Contains("label", stdout);

        File.WriteAllLines(labels, Enumerable.Range(0, 500).Select(i => $"label{i}"));
        var (badCode, _, badErr) = Run("classify", "--model", model, "--labels", labels, image);
        Assert.Equal(ExitCodes.BadInput, badCode);
        Assert.Contains("500 labels", badErr);
    }

    [Fact]
    public void BenchReportsLatencyDistribution()
    {
        string model = Generate("mobilenet-v1", "0.25", "128", int8: true);
        var (code, stdout, stderr) = Run("bench", "--model", model, "--threads", "1", "--warmup", "1", "--iterations", "3", "--per-layer");
        Assert.True(code == 0, stderr);
        Assert.Contains("median", stdout);
        Assert.Contains("GMAC/s", stdout);
        Assert.Contains("block_13/pointwise", stdout);
        // Each convolution names the kernel its set picked at load.
        var pointwise = stdout.Split('\n').Single(line => line.Contains("block_13/pointwise", StringComparison.Ordinal));
        Assert.Matches(@"Qs8(Gemm|Igemm)\w*_\w+\s*$", pointwise);
    }

    [Fact]
    public void MissingModelIsBadInputWithOneLine()
    {
        var (code, _, stderr) = Run("info", Path.Combine(_dir, "nope.emn"));
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("nope.emn", stderr);
    }

    [Fact]
    public void CorruptModelIsBadInputNamingTheFile()
    {
        string model = Generate("mobilenet-v1", "0.25", "128", int8: false);
        var bytes = File.ReadAllBytes(model);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(model, bytes);
        var (code, _, stderr) = Run("info", model);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains(Path.GetFileName(model), stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void StackTraceOnlyWithVerbose()
    {
        string bad = Path.Combine(_dir, "junk.emn");
        File.WriteAllBytes(bad, new byte[100]);
        var (code, _, stderr) = Run("info", bad, "--verbose");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("   at ", stderr);
    }

    [Fact]
    public void UnknownOptionIsUsageError()
    {
        var (code, _, stderr) = Run("bench", "--model", "x.emn", "--frobnicate");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith("error:", stderr);
    }

    [Fact]
    public void OutOfRangeValueIsUsageError()
    {
        var (code, _, stderr) = Run("generate", "mobilenet-v1", "--alpha", "0", "-o", Path.Combine(_dir, "x.emn"));
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--alpha", stderr);
    }

    [Fact]
    public void UndecodableImageIsBadInput()
    {
        string model = Generate("mobilenet-v1", "0.25", "128", int8: false);
        string image = Path.Combine(_dir, "broken.png");
        File.WriteAllBytes(image, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        var (code, _, stderr) = Run("classify", "--model", model, image);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("broken.png", stderr);
    }

    [Fact]
    public void SelfTestQuickPasses()
    {
        var (code, stdout, _) = Run("selftest", "--quick");
        Assert.True(code == 0, stdout);
        Assert.Contains("selftest: ", stdout);
        Assert.Contains(" 0 failed", stdout);
    }
}
