using System.CommandLine;
using System.Globalization;
using EdgeMobileNet.Edge.Classification;
using EdgeMobileNet.Format.Io;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Import;
using EdgeMobileNet.Import.Onnx;
using EdgeMobileNet.Import.Tflite;

namespace EdgeMobileNet.Cli.Commands;

/// <summary>
/// edgemobilenet convert MODEL -o OUT.emn: imports a source model (TFLite by extension or "TFL3" identifier), optionally
/// attaches labels and an input contract, validates the result and writes it. Nothing is written when anything fails.
/// </summary>
public static class ConvertCommand
{
    public static Command Create(CliContext cli)
    {
        var source = new Argument<string>("model") { Description = "The source model (.tflite or .onnx)" };
        var output = new Option<string>("--output", "-o") { Description = "The .emn file to write", Required = true };
        var labels = new Option<string?>("--labels") { Description = "Labels file, one class name per line, stored in the model" };
        var inputSpec = new Option<string?>("--input-spec")
        {
            Description = "Image input contract for an NHWC image input: 'rgb|bgr|gray[:mean=M[,M,M][:std=S[,S,S]]]' (pixel p becomes (p - mean) / std)",
        };
        var command = new Command("convert", "Convert a TFLite model to .emn (the graph input stays the source's input tensor)")
        {
            source, output, labels, inputSpec,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(source)!;
            string outPath = parse.GetValue(output)!;
            var importer = ImporterFor(path);
            var result = importer.Import(ReadSource(path), path);
            var model = result.Model;
            if (parse.GetValue(inputSpec) is { } spec) model.InputContract = ParseInputSpec(spec, model);
            if (parse.GetValue(labels) is { } labelsPath)
            {
                var outTensor = model.Tensors[model.Outputs[0]];
                int classes = outTensor.Shape.Length == 0 ? 1 : outTensor.Shape[^1];
                var (list, offset) = LabelFile.Load(labelsPath, classes);
                model.Labels.AddRange(list);
                model.LabelOffset = offset;
            }

            // Write to a temporary file first so that a failure leaves no partial output behind.
            string temp = outPath + ".tmp";
            try
            {
                EmnWriter.WriteFile(model, temp);
                File.Move(temp, outPath, overwrite: true);
            }
            finally
            {
                if (File.Exists(temp)) File.Delete(temp);
            }
            foreach (var line in result.Summary.Lines()) cli.Out.WriteLine(line);
            cli.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {outPath}: {model.Operators.Count} operators, {model.Tensors.Count} tensors, {new FileInfo(outPath).Length} bytes"));
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Chooses the importer by the file's identifier, then by its extension.</summary>
    public static IModelImporter ImporterFor(string path)
    {
        Span<byte> head = stackalloc byte[8];
        int read = 0;
        if (File.Exists(path))
        {
            using var stream = File.OpenRead(path);
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        if (TfliteImporter.HasIdentifier(head[..read])) return new TfliteImporter();
        string extension = Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".tflite" => new TfliteImporter(),
            ".onnx" => new OnnxImporter(),
            _ => throw new UsageException($"{path}: unknown model format '{extension}' (supported: .tflite, .onnx)"),
        };
    }

    private static byte[] ReadSource(string path)
    {
        if (!File.Exists(path)) throw new BadInputException($"{path}: model file not found");
        var info = new FileInfo(path);
        if (info.Length > Array.MaxLength) throw new BadInputException($"{path}: {info.Length} bytes is too large");
        return File.ReadAllBytes(path);
    }

    /// <summary>Parses 'rgb|bgr|gray[:mean=...][:std=...]' for an NHWC [1,H,W,C] input.</summary>
    public static InputContract ParseInputSpec(string spec, ModelDefinition model)
    {
        var input = model.Tensors[model.Inputs[0]];
        if (input.Shape.Length != 4 || input.Shape[0] != 1 || input.Shape[3] is not (1 or 3))
            throw new UsageException($"--input-spec needs an NHWC image input [1,H,W,1|3]; the input is {input.ShapeText}");
        var parts = spec.Split(':');
        var order = parts[0].Trim().ToLowerInvariant() switch
        {
            "rgb" => ColorOrder.Rgb,
            "bgr" => ColorOrder.Bgr,
            "gray" or "grey" or "grayscale" => ColorOrder.Grayscale,
            _ => throw new UsageException($"--input-spec: colour order '{parts[0]}' is not rgb, bgr or gray"),
        };
        int channels = order == ColorOrder.Grayscale ? 1 : 3;
        if (channels != input.Shape[3]) throw new UsageException($"--input-spec: {parts[0]} does not match the input's {input.Shape[3]} channels");
        var contract = new InputContract
        {
            Width = input.Shape[2], Height = input.Shape[1], Channels = channels, ColorOrder = order,
        };
        foreach (var part in parts.Skip(1))
        {
            var kv = part.Split('=', 2);
            if (kv.Length != 2) throw new UsageException($"--input-spec: '{part}' is not key=value");
            var values = kv[1].Split(',').Select(v => float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out float f) && float.IsFinite(f)
                ? f : throw new UsageException($"--input-spec: '{v}' is not a number")).ToArray();
            if (values.Length is not (1 or 3)) throw new UsageException($"--input-spec: {kv[0]} needs 1 or 3 values");
            var three = values.Length == 1 ? [values[0], values[0], values[0]] : values;
            switch (kv[0].Trim().ToLowerInvariant())
            {
                case "mean": contract.Mean = three; break;
                case "std":
                    if (three.Any(s => s <= 0)) throw new UsageException("--input-spec: std must be > 0");
                    contract.Std = three;
                    break;
                default: throw new UsageException($"--input-spec: unknown key '{kv[0]}' (mean, std)");
            }
        }
        return contract;
    }
}
