using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("EdgeMobileNet.Tests")]

namespace EdgeMobileNet.Format.Io;

/// <summary>
/// Constants and limits of the .emn model file format, version 1 (see docs/model-format.md).
/// The reader rejects every file that exceeds a limit; the writer rejects every model that would.
/// </summary>
public static class EmnFormat
{
    public const string FileExtension = ".emn";

    /// <summary>The only format version this code reads and writes.</summary>
    public const uint Version = 1;

    /// <summary>First 8 bytes of every .emn file: 0x89 'E' 'M' 'N' CR LF SUB LF.</summary>
    public static ReadOnlySpan<byte> Magic => [0x89, (byte)'E', (byte)'M', (byte)'N', 0x0D, 0x0A, 0x1A, 0x0A];

    public const int HeaderSize = 64;
    public const int SectionEntrySize = 24;

    /// <summary>File offsets of constant tensor data are multiples of this.</summary>
    public const int WeightsAlignment = 64;

    /// <summary>The writer starts every section other than weights at a multiple of this.</summary>
    public const int SectionAlignment = 8;

    public const int MaxSections = 16;

    /// <summary>Largest file: <see cref="Array.MaxLength"/> bytes, so a file always fits one array or span.</summary>
    public const long MaxFileLength = 0x7FFFFFC7;

    /// <summary>Largest UTF-8 byte length of any string (names, producer, labels).</summary>
    public const int MaxStringBytes = 4096;

    public const int MaxRank = 6;

    /// <summary>Largest byte size (element count times element size) of any tensor.</summary>
    public const long MaxTensorBytes = int.MaxValue;

    public const int MaxTensors = 1 << 20;
    public const int MaxOperators = 1 << 20;
    public const int MaxOperatorInputs = 16;
    public const int MaxOperatorOutputs = 16;
    public const int MaxGraphInputs = 1024;
    public const int MaxGraphOutputs = 1024;
    public const int MaxLabels = 1 << 20;
    public const int MaxLabelOffset = 1 << 20;

    /// <summary>Upper bound of strides, dilations, paddings, filter sizes and depth multipliers.</summary>
    public const int MaxAttributeValue = 1 << 16;

    /// <summary>Upper bound of the input contract's width and height.</summary>
    public const int MaxImageSide = 1 << 16;

    // Header field offsets.
    internal const int VersionOffset = 8;
    internal const int FlagsOffset = 12;
    internal const int HeaderSizeOffset = 16;
    internal const int SectionCountOffset = 20;
    internal const int FileLengthOffset = 24;
    internal const int ReservedOffset = 32;
    internal const int HeaderCrcOffset = 60;

    // Tensor record flags.
    internal const byte TensorQuantized = 1;
    internal const byte TensorConstant = 2;
    internal const byte KnownTensorFlags = TensorQuantized | TensorConstant;

    internal const int InputContractSize = 40;

    internal static long AlignUp(long value, int alignment) => (value + alignment - 1) / alignment * alignment;
}

/// <summary>Section kinds of the section table. Each kind appears at most once.</summary>
internal enum EmnSectionKind : uint
{
    Metadata = 1,
    Tensors = 2,
    Operators = 3,
    Graph = 4,
    InputContract = 5,
    Labels = 6,
    Weights = 7,
}

internal static class EmnSectionKindExtensions
{
    public const EmnSectionKind Last = EmnSectionKind.Weights;

    public static bool IsKnown(this EmnSectionKind kind) => kind is >= EmnSectionKind.Metadata and <= Last;

    public static bool IsRequired(this EmnSectionKind kind) =>
        kind is not (EmnSectionKind.InputContract or EmnSectionKind.Labels);

    public static string DisplayName(this EmnSectionKind kind) => kind switch
    {
        EmnSectionKind.Metadata => "metadata",
        EmnSectionKind.Tensors => "tensors",
        EmnSectionKind.Operators => "operators",
        EmnSectionKind.Graph => "graph",
        EmnSectionKind.InputContract => "input contract",
        EmnSectionKind.Labels => "labels",
        EmnSectionKind.Weights => "weights",
        _ => $"kind {(uint)kind}",
    };
}
