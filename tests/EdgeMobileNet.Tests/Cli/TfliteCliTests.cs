using EdgeMobileNet.Cli;
using EdgeMobileNet.Format.Io;
using EdgeMobileNet.Tests.Import;
using Xunit;

namespace EdgeMobileNet.Tests.Cli;

/// <summary>edgemobilenet convert and infer, end to end through the command line (no selftest involved).</summary>
public sealed class TfliteCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("emn-tflite-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => Cli.Run(args);

    [Fact]
    public void ConvertThenInferMatchesTheInProcessRun()
    {
        string tflite = Path.Combine(_dir, "small.tflite");
        File.WriteAllBytes(tflite, TfliteTestBuilder.SmallInt8Model().Build());
        string emn = Path.Combine(_dir, "small.emn");
        string labels = Path.Combine(_dir, "labels.txt");
        File.WriteAllLines(labels, ["cat", "dog", "bird"]);
        var (code, stdout, stderr) = Run("convert", tflite, "-o", emn, "--labels", labels);
        Assert.True(code == 0, stderr);
        Assert.Contains("1 TRANSPOSE", stdout);
        using (var file = EmnModelFile.Open(emn)) Assert.Equal("dog", file.Model.LabelOf(1));

        var input = TfliteImporterTests.RandomInt8(50, 9);
        string inPath = Path.Combine(_dir, "in.bin"), outPath = Path.Combine(_dir, "out.bin");
        File.WriteAllBytes(inPath, (byte[])(Array)input);
        (code, _, stderr) = Run("infer", "--model", emn, "--input-raw", inPath, "--output-raw", outPath);
        Assert.True(code == 0, stderr);
        var expected = TfliteImporterTests.Run(TfliteImporterTests.Import(File.ReadAllBytes(tflite)), input);
        Assert.Equal((byte[])(Array)expected, File.ReadAllBytes(outPath));

        // A raw input of the wrong size is bad input (exit 3).
        File.WriteAllBytes(inPath, new byte[49]);
        (code, _, stderr) = Run("infer", "--model", emn, "--input-raw", inPath, "--output-raw", outPath);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("takes 50", stderr);
    }

    [Fact]
    public void UnsupportedModelWritesNothing()
    {
        var m = new TfliteTestBuilder();
        int a = m.Int8("a", [1, 4, 4, 2], 0.1f, 0);
        int b = m.Int8("b", [1, 2, 2, 2], 0.1f, 0);
        m.Op(17, [a], [b]); // MAX_POOL_2D
        m.Inputs.Add(a);
        m.Outputs.Add(b);
        string tflite = Path.Combine(_dir, "bad.tflite"), emn = Path.Combine(_dir, "bad.emn");
        File.WriteAllBytes(tflite, m.Build());
        var (code, _, stderr) = Run("convert", tflite, "-o", emn);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("operator 0 MAX_POOL_2D", stderr);
        Assert.False(File.Exists(emn));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public void UnknownFormatIsAUsageError()
    {
        string path = Path.Combine(_dir, "model.pb");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        var (code, _, stderr) = Run("convert", path, "-o", Path.Combine(_dir, "x.emn"));
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("unknown model format", stderr);
    }

    [Fact]
    public void InputSpecBecomesTheInputContract()
    {
        var m = new TfliteTestBuilder();
        int a = m.Int8("image", [1, 4, 4, 3], 0.02f, -1);
        int axes = m.Int32Const("axes", [1, 2]);
        int b = m.Int8("mean", [1, 1, 1, 3], 0.02f, -1);
        m.Op(40, [a, axes], [b], 27, TfliteTestBuilder.Reducer(true));
        m.Inputs.Add(a);
        m.Outputs.Add(b);
        string tflite = Path.Combine(_dir, "image.tflite"), emn = Path.Combine(_dir, "image.emn");
        File.WriteAllBytes(tflite, m.Build());
        var (code, _, stderr) = Run("convert", tflite, "-o", emn, "--input-spec", "bgr:mean=127.5:std=1,2,4");
        Assert.True(code == 0, stderr);
        using (var file = EmnModelFile.Open(emn))
        {
            var contract = file.Model.InputContract!;
            Assert.Equal((4, 4, 3, EdgeMobileNet.Format.Model.ColorOrder.Bgr), (contract.Width, contract.Height, contract.Channels, contract.ColorOrder));
            Assert.Equal([127.5f, 127.5f, 127.5f], contract.Mean);
            Assert.Equal([1f, 2f, 4f], contract.Std);
        }
        (code, _, stderr) = Run("convert", tflite, "-o", emn, "--input-spec", "gray");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("channels", stderr);
    }

    [SkippableFact]
    public void UpstreamPersonDetectThroughTheCommandLine()
    {
        string model = UpstreamModels.Require("person_detect.tflite");
        string emn = Path.Combine(_dir, "person_detect.emn");
        var (code, stdout, stderr) = Run("convert", model, "-o", emn);
        Assert.True(code == 0, stderr);
        Assert.Contains("14 DEPTHWISE_CONV_2D", stdout);
        string inPath = Path.Combine(_dir, "person.bin"), outPath = Path.Combine(_dir, "person.out");
        File.WriteAllBytes(inPath, (byte[])(Array)UpstreamModels.BmpAsUpstreamInput(UpstreamModels.Require("person.bmp")));
        (code, _, stderr) = Run("infer", "--model", emn, "--input-raw", inPath, "--output-raw", outPath);
        Assert.True(code == 0, stderr);
        Assert.Equal(new byte[] { unchecked((byte)-113), 113 }, File.ReadAllBytes(outPath));
    }
}
