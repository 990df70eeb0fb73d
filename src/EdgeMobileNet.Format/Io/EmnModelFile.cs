using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using EdgeMobileNet.Format.Model;

namespace EdgeMobileNet.Format.Io;

/// <summary>
/// A validated .emn model and the memory that holds it. <see cref="Open"/> maps the file read-only and
/// constant tensors' <see cref="TensorDefinition.Data"/> point straight into the mapping (no copy): they
/// are valid until <see cref="Dispose"/>, after which touching them throws <see cref="ObjectDisposedException"/>
/// (spans taken before disposal must not be used after it).
/// </summary>
public sealed class EmnModelFile : IDisposable
{
    private readonly FileMapping? _mapping;

    private EmnModelFile(ModelDefinition model, string sourceName, long fileLength, FileMapping? mapping)
    {
        Model = model;
        SourceName = sourceName;
        FileLength = fileLength;
        _mapping = mapping;
    }

    public ModelDefinition Model { get; }

    /// <summary>The path given to <see cref="Open"/>, or the name given to <see cref="FromBytes"/>.</summary>
    public string SourceName { get; }

    public long FileLength { get; }

    /// <summary>
    /// Maps <paramref name="path"/> read-only and validates it: <see cref="ModelFormatException"/> for an
    /// invalid file; the usual I/O exceptions when it cannot be opened.
    /// </summary>
    public static EmnModelFile Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        long length = stream.Length;
        if (length < EmnFormat.HeaderSize)
        {
            // Too small to map usefully (an empty file cannot be mapped at all): let the reader explain.
            byte[] bytes = new byte[length];
            stream.ReadExactly(bytes);
            EmnReader.Read(bytes, path);
            throw new UnreachableException("the reader accepted a file smaller than the header");
        }
        if (length > EmnFormat.MaxFileLength)
            throw new ModelFormatException($"{path}: file is {length} bytes, exceeds the limit of {EmnFormat.MaxFileLength}");

        FileMapping mapping = FileMapping.Create(stream, (int)length);
        try
        {
            ModelDefinition model = EmnReader.Read(mapping.Memory, path);
            return new EmnModelFile(model, path, length, mapping);
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Validates an in-memory file. Constant data are slices of <paramref name="bytes"/> (no copy), so the
    /// array must not be modified while the model is used.
    /// </summary>
    public static EmnModelFile FromBytes(byte[] bytes, string sourceName = "<memory>")
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(sourceName);
        ModelDefinition model = EmnReader.Read(bytes, sourceName);
        return new EmnModelFile(model, sourceName, bytes.Length, mapping: null);
    }

    public void Dispose() => _mapping?.Dispose();

    /// <summary>A read-only view of a whole file and the <see cref="MappedMemoryManager"/> over it.</summary>
    private sealed unsafe class FileMapping : IDisposable
    {
        private readonly MemoryMappedFile _file;
        private readonly MemoryMappedViewAccessor _view;
        private readonly MappedMemoryManager _memory;
        private int _disposed;

        private FileMapping(MemoryMappedFile file, MemoryMappedViewAccessor view, MappedMemoryManager memory)
        {
            _file = file;
            _view = view;
            _memory = memory;
        }

        public ReadOnlyMemory<byte> Memory => _memory.Memory;

        public static FileMapping Create(FileStream stream, int length)
        {
            MemoryMappedFile file = MemoryMappedFile.CreateFromFile(stream, mapName: null, capacity: 0,
                MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            MemoryMappedViewAccessor? view = null;
            bool acquired = false;
            try
            {
                view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
                byte* pointer = null;
                view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
                acquired = true;
                var memory = new MappedMemoryManager(pointer + view.PointerOffset, length);
                return new FileMapping(file, view, memory);
            }
            catch
            {
                if (acquired) view!.SafeMemoryMappedViewHandle.ReleasePointer();
                view?.Dispose();
                file.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            _memory.Invalidate();
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _file.Dispose();
        }
    }
}
