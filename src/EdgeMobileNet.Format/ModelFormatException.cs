namespace EdgeMobileNet.Format;

/// <summary>
/// A model file (or model definition) that violates the format. The message names what is wrong
/// and where (file, section, record index, byte offset) in one line.
/// </summary>
public sealed class ModelFormatException : Exception
{
    public ModelFormatException(string message) : base(message) { }
    public ModelFormatException(string message, Exception inner) : base(message, inner) { }
}
