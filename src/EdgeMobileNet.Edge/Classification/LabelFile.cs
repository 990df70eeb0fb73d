namespace EdgeMobileNet.Edge.Classification;

/// <summary>
/// A labels file: one class name per line. Its count must equal the model's classes, or be one
/// less (a 1001-class model whose class 0 is background: the offset is then 1); anything else is an
/// error unless the offset is given explicitly.
/// </summary>
public static class LabelFile
{
    public static (List<string> Labels, int Offset) Load(string path, int classCount, int? explicitOffset = null)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: cannot read labels: {e.Message}", e);
        }
        var labels = lines.Select(l => l.Trim()).ToList();
        while (labels.Count > 0 && labels[^1].Length == 0) labels.RemoveAt(labels.Count - 1);
        if (explicitOffset is int offset)
        {
            if (offset < 0 || offset + labels.Count > classCount)
                throw new IOException($"{path}: {labels.Count} labels at offset {offset} do not fit the model's {classCount} classes");
            return (labels, offset);
        }
        if (labels.Count == classCount) return (labels, 0);
        if (labels.Count == classCount - 1) return (labels, 1);
        throw new IOException($"{path}: {labels.Count} labels for a model with {classCount} classes (state the label offset if this is intended)");
    }
}
