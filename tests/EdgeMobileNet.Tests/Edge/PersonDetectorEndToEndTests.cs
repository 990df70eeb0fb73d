using EdgeMobileNet.Cli;
using Xunit;

namespace EdgeMobileNet.Tests.Edge;

/// <summary>
/// The upstream tflite-micro person detector (../shared/models-upstream, never copied into the repo),
/// converted with `edgemobilenet convert`, driving an LED rule from a folder of its test images through
/// `edgemobilenet run --gpio sim`. Skipped, saying so, where ../shared/models-upstream is absent.
/// </summary>
public class PersonDetectorEndToEndTests
{
    private static string? Upstream()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            string candidate = Path.Combine(dir, "..", "shared", "models-upstream");
            if (File.Exists(Path.Combine(candidate, "person_detect.tflite"))) return Path.GetFullPath(candidate);
        }
        return null;
    }

    [SkippableFact]
    public void PersonFramesLightTheLedWithHysteresis()
    {
        string? upstream = Upstream();
        Skip.If(upstream is null, "../shared/models-upstream/person_detect.tflite is absent (the upstream person detector is never copied into the repository)");
        using var dir = new TempDirectory();
        var stderr = new StringWriter();
        Assert.True(CommandLineApp.Run(["convert", Path.Combine(upstream!, "person_detect.tflite"), "--input-spec", "gray", "-o", dir.File("person.emn")],
            new StringWriter(), stderr) == 0, stderr.ToString());

        // person.bmp stores pixel - 128 (see models-upstream/README.md): undo that for a real image.
        var person = File.ReadAllBytes(Path.Combine(upstream, "person.bmp"));
        for (int i = 1078; i < person.Length; i++) person[i] = (byte)(person[i] + 128);
        var noPerson = File.ReadAllBytes(Path.Combine(upstream, "no_person.bmp"));
        Directory.CreateDirectory(dir.File("frames"));
        string sequence = "PPPNNNNPP"; // frame i at i * 100 ms
        for (int i = 0; i < sequence.Length; i++)
            File.WriteAllBytes(dir.File(Path.Combine("frames", $"{i:D2}.bmp")), sequence[i] == 'P' ? person : noPerson);
        File.WriteAllText(dir.File("person.json"), """
            { "model": "person.emn", "scores": "probabilities",
              "source": { "type": "folder", "path": "frames", "fps": 10 },
              "rules": [ { "name": "person-led", "classes": [1], "onThreshold": 0.6, "offThreshold": 0.4,
                           "onFrames": 2, "offFrames": 2, "line": 17 } ],
              "logging": { "console": false } }
            """);
        var stdout = new StringWriter();
        Assert.True(CommandLineApp.Run(["run", "--config", dir.File("person.json"), "--gpio", "sim"], stdout, stderr) == 0, stderr.ToString());
        var lines = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(
        [
            "gpio        0.0 ms  auto line  17 -> 0", // claimed safe
            "gpio      100.0 ms  auto line  17 -> 1", // 2nd person frame
            "gpio      400.0 ms  auto line  17 -> 0", // 2nd frame without a person
            "gpio      800.0 ms  auto line  17 -> 1", // 2nd person frame again
            "gpio      800.0 ms  auto line  17 -> 0", // end of input: safe state
        ], lines);
    }
}
