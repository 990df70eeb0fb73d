using EdgeMobileNet.Format;
using EdgeMobileNet.Format.Io;
using EdgeMobileNet.Graph.Runtime;

namespace EdgeMobileNet.Cli;

/// <summary>Opens a .emn file (memory-mapped) and prepares a session over it.</summary>
public sealed class LoadedModel : IDisposable
{
    private LoadedModel(EmnModelFile file, InferenceSession session)
    {
        File = file;
        Session = session;
    }

    public EmnModelFile File { get; }
    public InferenceSession Session { get; }

    public static EmnModelFile OpenFile(string path)
    {
        if (!System.IO.File.Exists(path)) throw new BadInputException($"{path}: model file not found");
        return EmnModelFile.Open(path);
    }

    public static LoadedModel Open(string path, string? isa, int threads = 1)
    {
        var file = OpenFile(path);
        try
        {
            var session = InferenceSession.Create(file.Model, new SessionOptions { Isa = isa, SourceName = path, Threads = threads });
            return new LoadedModel(file, session);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Session.Dispose();
        File.Dispose();
    }
}
