namespace EdgeMobileNet.Format.Model;

/// <summary>
/// A whole model as the .emn file holds it: tensors, operators in execution order, graph inputs and
/// outputs, the input contract and optional class labels.
/// </summary>
public sealed class ModelDefinition
{
    public string Name { get; set; } = string.Empty;
    public string Producer { get; set; } = string.Empty;
    public List<TensorDefinition> Tensors { get; } = [];
    public List<OperatorDefinition> Operators { get; } = [];
    public List<int> Inputs { get; } = [];
    public List<int> Outputs { get; } = [];
    public InputContract? InputContract { get; set; }

    /// <summary>Class labels; label i names output class i + <see cref="LabelOffset"/>.</summary>
    public List<string> Labels { get; } = [];

    /// <summary>
    /// Index of the output class that Labels[0] names. 1 for a 1001-class model whose class 0 is
    /// "background" and whose labels file lists the 1000 real classes.
    /// </summary>
    public int LabelOffset { get; set; }

    public int AddTensor(TensorDefinition tensor)
    {
        Tensors.Add(tensor);
        return Tensors.Count - 1;
    }

    /// <summary>The label of output class <paramref name="classIndex"/>, or null when it has none.</summary>
    public string? LabelOf(int classIndex)
    {
        int i = classIndex - LabelOffset;
        return i >= 0 && i < Labels.Count ? Labels[i] : null;
    }
}
