namespace EdgeMobileNet.Format.Model;

/// <summary>
/// A tensor of the model: an activation (no data) or a constant whose bytes live in
/// <see cref="Data"/> (for a loaded file, a slice of the memory-mapped weights section: no copy).
/// </summary>
public sealed class TensorDefinition
{
    public TensorDefinition(string name, DataType dataType, int[] shape, QuantizationInfo? quantization = null,
        ReadOnlyMemory<byte>? data = null)
    {
        Name = name;
        DataType = dataType;
        Shape = shape;
        Quantization = quantization;
        Data = data;
    }

    public string Name { get; set; }
    public DataType DataType { get; set; }
    public int[] Shape { get; set; }
    public QuantizationInfo? Quantization { get; set; }
    public ReadOnlyMemory<byte>? Data { get; set; }

    public bool IsConstant => Data.HasValue;

    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (int d in Shape) n *= d;
            return n;
        }
    }

    public long ByteLength => ElementCount * DataType.ElementSize();

    public string ShapeText => "[" + string.Join("x", Shape) + "]";

    public override string ToString() => $"{Name}: {DataType.ToShortName()}{ShapeText}";
}
