using System.CommandLine;
using EdgeMobileNet.Format.Model;

namespace EdgeMobileNet.Cli.Commands;

/// <summary>
/// edgemobilenet infer --model M.emn --input-raw IN.bin --output-raw OUT.bin: feeds one raw tensor (the graph input's
/// exact bytes: its own layout and data type, little-endian) and writes the raw bytes of graph output 0.
/// </summary>
public static class InferCommand
{
    public static Command Create(CliContext cli)
    {
        var model = new Option<string>("--model", "-m") { Description = "The .emn model file", Required = true };
        var inputRaw = new Option<string>("--input-raw") { Description = "Raw bytes of the input tensor", Required = true };
        var outputRaw = new Option<string>("--output-raw") { Description = "Where to write the raw bytes of the output tensor", Required = true };
        var command = new Command("infer", "Run the model on one raw input tensor and write the raw output tensor")
        {
            model, inputRaw, outputRaw, ClassifyCommand.IsaOption, ClassifyCommand.ThreadsOption,
        };
        command.SetAction(parse =>
        {
            string inputPath = parse.GetValue(inputRaw)!;
            using var loaded = LoadedModel.Open(parse.GetValue(model)!, parse.GetValue(ClassifyCommand.IsaOption), ClassifyCommand.Threads(parse));
            var session = loaded.Session;
            if (session.InputCount != 1) throw new BadInputException($"the model has {session.InputCount} inputs; infer feeds exactly one");
            var input = session.InputTensor(0);
            if (!File.Exists(inputPath)) throw new BadInputException($"{inputPath}: input file not found");
            long length = new FileInfo(inputPath).Length;
            if (length != input.ByteLength)
                throw new BadInputException($"{inputPath}: {length} bytes, but input '{input.Name}' {input.DataType.ToShortName()}{input.ShapeText} takes {input.ByteLength}");
            File.ReadAllBytes(inputPath).CopyTo(session.InputBytes(0));
            session.Run();
            var output = session.OutputTensor(0);
            File.WriteAllBytes(parse.GetValue(outputRaw)!, session.OutputBytes(0).ToArray());
            cli.Out.WriteLine($"wrote {parse.GetValue(outputRaw)}: output '{output.Name}' {output.DataType.ToShortName()}{output.ShapeText}, {output.ByteLength} bytes");
            return ExitCodes.Success;
        });
        return command;
    }
}
