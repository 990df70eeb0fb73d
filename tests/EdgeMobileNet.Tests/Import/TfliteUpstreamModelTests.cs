using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Import.Tflite;
using Xunit;

namespace EdgeMobileNet.Tests.Import;

/// <summary>Where the upstream tflite-micro models live: ../shared/models-upstream beside the repository root.</summary>
internal static class UpstreamModels
{
    public static string? Directory { get; } = Find();

    private static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EdgeMobileNet.sln")))
            {
                string shared = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "models-upstream"));
                return System.IO.Directory.Exists(shared) ? shared : null;
            }
        }
        return null;
    }

    /// <summary>The path of <paramref name="file"/>, or skips the test with a clear message when it is absent.</summary>
    public static string Require(string file)
    {
        Skip.If(Directory is null, "../shared/models-upstream (beside the repository root) is absent: upstream model test skipped");
        string path = Path.Combine(Directory!, file);
        Skip.IfNot(File.Exists(path), $"{path} is absent: upstream model test skipped");
        return path;
    }

    /// <summary>
    /// The upstream person_detection_test input: PIL's Image.tobytes() of an 8-bit BMP, i.e. its pixel rows top-down
    /// (a BMP with positive height stores them bottom-up), each byte reinterpreted as int8 as the test's memcpy does.
    /// </summary>
    public static sbyte[] BmpAsUpstreamInput(string path)
    {
        byte[] bmp = File.ReadAllBytes(path);
        int offset = BitConverter.ToInt32(bmp, 10);
        int width = BitConverter.ToInt32(bmp, 18), height = BitConverter.ToInt32(bmp, 22);
        Assert.Equal(8, BitConverter.ToInt16(bmp, 28));
        int rows = Math.Abs(height), stride = (width + 3) / 4 * 4;
        var pixels = new sbyte[width * rows];
        for (int y = 0; y < rows; y++)
        {
            int sourceRow = height > 0 ? rows - 1 - y : y;
            for (int x = 0; x < width; x++) pixels[y * width + x] = (sbyte)bmp[offset + sourceRow * stride + x];
        }
        return pixels;
    }
}

public sealed class TfliteUpstreamModelTests
{
    private static ModelDefinition Convert(string file) =>
        new TfliteImporter().Import(File.ReadAllBytes(UpstreamModels.Require(file)), file).Model;

    [SkippableFact]
    public void PersonDetectScoresPersonAndNoPerson()
    {
        var model = Convert("person_detect.tflite");
        var person = TfliteImporterTests.Run(model, UpstreamModels.BmpAsUpstreamInput(UpstreamModels.Require("person.bmp")));
        var noPerson = TfliteImporterTests.Run(model, UpstreamModels.BmpAsUpstreamInput(UpstreamModels.Require("no_person.bmp")));
        // Index 0 = notperson, 1 = person (model_settings.h).
        Assert.True(person[1] > person[0], $"person.bmp: person {person[1]} <= notperson {person[0]}");
        Assert.True(noPerson[0] > noPerson[1], $"no_person.bmp: notperson {noPerson[0]} <= person {noPerson[1]}");
        // The exact int8 outputs of this engine's TFLite-exact kernels (recorded; any change must be explained).
        Assert.Equal(new sbyte[] { -113, 113 }, person);
        Assert.Equal(new sbyte[] { 57, -57 }, noPerson);
    }

    [SkippableFact]
    public void MobileNetV2ClassifiesTheDog()
    {
        var model = Convert("mobilenet_v2_quantized_1x3x224x224.tflite");
        Assert.Equal([1, 3, 224, 224], model.Tensors[model.Inputs[0]].Shape); // the source's own NCHW input
        var input = (sbyte[])(Array)File.ReadAllBytes(UpstreamModels.Require("dog_input_int8.bin"));
        var logits = TfliteImporterTests.Run(model, input);
        var top5 = Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).ThenBy(i => i).Take(5)
            .Select(i => (i, (int)logits[i])).ToArray();
        Assert.InRange(top5[0].i, 151, 268); // an ImageNet dog class
        Assert.Equal(258, top5[0].i);        // Samoyed, as the upstream notebooks printed
        Assert.Equal(new[] { (258, 93), (259, 72), (203, 62), (261, 62), (279, 57) }, top5);
    }
}
