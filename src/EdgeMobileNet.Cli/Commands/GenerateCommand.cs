using System.CommandLine;
using System.Globalization;
using EdgeMobileNet.Format.Io;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Analysis;
using EdgeMobileNet.Zoo;
using Serilog;

namespace EdgeMobileNet.Cli.Commands;

/// <summary>edgemobilenet generate mobilenet-v1|mobilenet-v2: an architecture-only model with seeded weights.</summary>
public static class GenerateCommand
{
    public static Command Create(CliContext cli)
    {
        var architecture = new Argument<string>("architecture") { Description = "mobilenet-v1 or mobilenet-v2" };
        architecture.AcceptOnlyFromAmong("mobilenet-v1", "mobilenet-v2");
        var alpha = new Option<float>("--alpha") { Description = "Width multiplier", DefaultValueFactory = _ => 1.0f };
        var resolution = new Option<int>("--resolution") { Description = "Input height and width", DefaultValueFactory = _ => 224 };
        var int8 = new Option<bool>("--int8") { Description = "Quantize to int8 (post-training, synthetic calibration images)" };
        var seed = new Option<int>("--seed") { Description = "Seed of the random weights", DefaultValueFactory = _ => 1 };
        var classes = new Option<int>("--classes") { Description = "Number of output classes", DefaultValueFactory = _ => 1000 };
        var calibration = new Option<int>("--calibration-images") { Description = "Synthetic images used to calibrate int8 ranges", DefaultValueFactory = _ => 8 };
        var output = new Option<string>("--output", "-o") { Description = "The .emn file to write", Required = true };

        var command = new Command("generate", "Build MobileNet V1 or V2 with seeded random weights (architecture only) and write it as .emn")
        {
            architecture, alpha, resolution, int8, seed, classes, calibration, output,
        };
        command.SetAction(parse =>
        {
            float a = parse.GetValue(alpha);
            int r = parse.GetValue(resolution);
            int c = parse.GetValue(classes);
            if (!(a > 0 && a <= 4)) throw new UsageException($"--alpha {a.ToString(CultureInfo.InvariantCulture)} must be in (0, 4]");
            if (r is < 32 or > 1024) throw new UsageException($"--resolution {r} must be 32..1024");
            if (c is < 1 or > 100_000) throw new UsageException($"--classes {c} must be 1..100000");
            int images = parse.GetValue(calibration);
            if (images is < 1 or > 1000) throw new UsageException($"--calibration-images {images} must be 1..1000");

            var model = parse.GetValue(architecture) == "mobilenet-v1"
                ? MobileNetV1.Build(a, r, c, parse.GetValue(seed))
                : MobileNetV2.Build(a, r, c, parse.GetValue(seed));
            if (parse.GetValue(int8))
            {
                Log.Debug("Calibrating {Model} on {Count} synthetic images", model.Name, images);
                model = PostTrainingQuantizer.Quantize(model,
                    PostTrainingQuantizer.SyntheticCalibration(model, images, parse.GetValue(seed) + 1));
            }
            string path = parse.GetValue(output)!;
            EmnWriter.WriteFile(model, path);
            var stats = ModelStatistics.Compute(model);
            cli.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {path}: {model.Name}, {model.Operators.Count} operators, {stats.MultAdds / 1e6:F1}M Mult-Adds, {stats.Parameters / 1e6:F3}M parameters, {new FileInfo(path).Length} bytes"));
            return ExitCodes.Success;
        });
        return command;
    }
}
