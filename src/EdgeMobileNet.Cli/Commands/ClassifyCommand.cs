using System.CommandLine;
using System.Globalization;
using EdgeMobileNet.Edge.Classification;
using EdgeMobileNet.Edge.Imaging;

namespace EdgeMobileNet.Cli.Commands;

/// <summary>edgemobilenet classify: decode images, preprocess per the model's contract, print top-k.</summary>
public static class ClassifyCommand
{
    public static readonly Option<string> IsaOption = new("--isa")
    {
        Description = "Kernel set: auto (default; or $EDGEMOBILENET_ISA) or a name listed by 'selftest'",
        DefaultValueFactory = _ => "auto",
    };

    /// <summary>Threads that compute an inference, shared by classify, infer, bench and run.</summary>
    public static readonly Option<int> ThreadsOption = new("--threads", "-t")
    {
        Description = "Threads per inference (default: all cores)",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    };

    /// <summary>The --threads value, checked.</summary>
    public static int Threads(ParseResult parse)
    {
        int t = parse.GetValue(ThreadsOption);
        if (t < 1) throw new UsageException($"--threads {t} must be at least 1");
        return t;
    }

    public static Command Create(CliContext cli)
    {
        var model = new Option<string>("--model", "-m") { Description = "The .emn model file", Required = true };
        var labels = new Option<string?>("--labels") { Description = "Labels file, one class name per line (default: the model's own)" };
        var labelOffset = new Option<int?>("--label-offset") { Description = "Class index of the labels file's first line" };
        var top = new Option<int>("--top", "-k") { Description = "How many classes to print", DefaultValueFactory = _ => 5 };
        var images = new Argument<string[]>("images") { Description = "JPEG, PNG or BMP files", Arity = ArgumentArity.OneOrMore };
        var command = new Command("classify", "Classify images and print the top-k classes with scores")
        {
            model, labels, labelOffset, top, IsaOption, ThreadsOption, images,
        };
        command.SetAction(parse =>
        {
            int k = parse.GetValue(top);
            if (k < 1) throw new UsageException($"--top {k} must be at least 1");
            using var loaded = LoadedModel.Open(parse.GetValue(model)!, parse.GetValue(IsaOption), Threads(parse));
            var classifier = new ImageClassifier(loaded.Session);
            var definition = loaded.File.Model;
            Func<int, string?> labelOf = definition.LabelOf;
            if (parse.GetValue(labels) is { } labelsPath)
            {
                var (list, offset) = LabelFile.Load(labelsPath, classifier.ClassCount, parse.GetValue(labelOffset));
                labelOf = c => c - offset >= 0 && c - offset < list.Count ? list[c - offset] : null;
            }
            var best = new (int Class, float Score)[Math.Min(k, classifier.ClassCount)];
            foreach (string path in parse.GetValue(images)!)
            {
                var image = ImageDecoder.DecodeFile(path, classifier.ImageChannels);
                var scores = classifier.Classify(image);
                int n = ImageClassifier.TopK(scores, best);
                cli.Out.WriteLine($"{path}:");
                for (int i = 0; i < n; i++)
                {
                    var (c, s) = best[i];
                    cli.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {i + 1,2}  class {c,5}  {labelOf(c) ?? "-",-30} {s:F9}"));
                }
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
