using EdgeMobileNet.Format;
using EdgeMobileNet.Format.Io;
using EdgeMobileNet.Format.Model;
using Xunit;

namespace EdgeMobileNet.Tests.Format;

/// <summary>Each class of format error: the reader (and, for model-level errors, the writer) reports it in one line naming what and where.</summary>
public sealed class EmnValidationTests
{
    private const string Source = "model.emn";

    // ---- container: header, section table, checksums ----

    [Fact]
    public void FileSmallerThanHeader_IsRejected()
    {
        string message = ReadError(new byte[10]);
        Assert.Equal("model.emn: file is 10 bytes, smaller than the 64-byte .emn header (truncated or not an .emn file)", message);
    }

    [Fact]
    public void BadMagic_IsRejected()
    {
        byte[] bytes = ValidBytes();
        bytes[1] = (byte)'X';
        Assert.StartsWith("model.emn: not an .emn file: magic bytes 89584D4E0D0A1A0A", ReadError(bytes));
    }

    [Fact]
    public void UnsupportedVersion_IsRejected()
    {
        var file = new EmnTestFile(ValidBytes());
        file.SetU32(EmnTestFile.VersionOffset, 2);
        Assert.Equal("model.emn: header: unsupported format version 2 (this reader supports version 1)", ReadError(file.Bytes));
    }

    [Fact]
    public void HeaderByteFlip_FailsTheHeaderChecksum()
    {
        byte[] bytes = ValidBytes();
        bytes[40] ^= 0x10;
        Assert.Matches("^model.emn: header: CRC32C of header and section table is 0x[0-9A-F]{8}, stored 0x[0-9A-F]{8}", ReadError(bytes));
    }

    [Fact]
    public void StoredHeaderChecksumFlip_IsDetected()
    {
        byte[] bytes = ValidBytes();
        bytes[EmnTestFile.HeaderCrcOffset + 2] ^= 0x01;
        Assert.StartsWith("model.emn: header: CRC32C", ReadError(bytes));
    }

    [Fact]
    public void SectionTableFlip_FailsTheHeaderChecksum()
    {
        byte[] bytes = ValidBytes();
        bytes[EmnTestFile.EntryOffset(3) + 9] ^= 0x80;
        Assert.StartsWith("model.emn: header: CRC32C", ReadError(bytes));
    }

    [Fact]
    public void WeightsByteFlip_FailsTheWeightsChecksum()
    {
        var file = new EmnTestFile(ValidBytes());
        file.Bytes[file.Section(EmnTestFile.Weights).Offset + 3] ^= 0x04;
        Assert.Matches("^model.emn: weights section: CRC32C of [0-9]+ bytes at offset [0-9]+ is 0x[0-9A-F]{8}, stored 0x[0-9A-F]{8}", ReadError(file.Bytes));
    }

    [Fact]
    public void StoredSectionChecksumFlip_IsDetected()
    {
        var file = new EmnTestFile(ValidBytes());
        file.Bytes[EmnTestFile.EntryOffset(file.EntryIndex(EmnTestFile.Tensors)) + 4] ^= 0x01;
        file.RepairHeaderChecksum();
        Assert.StartsWith("model.emn: tensors section: CRC32C", ReadError(file.Bytes));
    }

    [Fact]
    public void Truncation_IsReportedAsSuch()
    {
        byte[] bytes = ValidBytes();
        Assert.EndsWith("(truncated)", ReadError(bytes[..^1]));
    }

    [Fact]
    public void TrailingBytes_AreReportedAsSuch()
    {
        byte[] bytes = [.. ValidBytes(), 0];
        Assert.EndsWith("(trailing bytes)", ReadError(bytes));
    }

    [Fact]
    public void UnknownSectionKind_IsRejected()
    {
        var file = new EmnTestFile(ValidBytes());
        file.SetU32(EmnTestFile.EntryOffset(5), 99);
        file.RepairChecksums();
        Assert.Equal("model.emn: section table entry 5 (kind 99): unknown section kind 99", ReadError(file.Bytes));
    }

    [Fact]
    public void DuplicateSection_IsRejected()
    {
        var file = new EmnTestFile(ValidBytes());
        file.SetU32(EmnTestFile.EntryOffset(file.EntryIndex(EmnTestFile.Labels)), EmnTestFile.Metadata);
        file.RepairChecksums();
        Assert.Equal("model.emn: section table entry 5 (metadata): duplicate section kind", ReadError(file.Bytes));
    }

    [Fact]
    public void MissingRequiredSection_IsRejected()
    {
        var file = new EmnTestFile(EmnWriter.Write(EmnTestModels.Minimal()));
        file.SetU32(EmnTestFile.SectionCountOffset, 4); // drops the weights entry
        file.RepairChecksums();
        Assert.Equal("model.emn: section table: the required weights section is missing", ReadError(file.Bytes));
    }

    [Fact]
    public void SectionOutsideTheFile_IsRejected()
    {
        var file = new EmnTestFile(ValidBytes());
        int entry = EmnTestFile.EntryOffset(file.EntryIndex(EmnTestFile.Tensors));
        file.SetU64(entry + 16, ulong.MaxValue - 3);
        file.RepairChecksums();
        Assert.Matches(@"^model.emn: section table entry 1 \(tensors\): offset \d+ \+ length 18446744073709551612 exceeds the file length \d+$", ReadError(file.Bytes));
    }

    [Fact]
    public void OverlappingSections_AreRejected()
    {
        var file = new EmnTestFile(ValidBytes());
        (int metadataOffset, _) = file.Section(EmnTestFile.Metadata);
        file.SetU64(EmnTestFile.EntryOffset(file.EntryIndex(EmnTestFile.Graph)) + 8, (ulong)metadataOffset + 1);
        file.RepairChecksums();
        Assert.Contains("section table: metadata section (bytes", ReadError(file.Bytes));
    }

    [Fact]
    public void MisalignedWeightsSection_IsRejected()
    {
        var file = new EmnTestFile(ValidBytes());
        int entry = EmnTestFile.EntryOffset(file.EntryIndex(EmnTestFile.Weights));
        file.SetU64(entry + 8, file.U64(entry + 8) - 8);
        file.RepairChecksums();
        Assert.EndsWith("is not a multiple of 64", ReadError(file.Bytes));
    }

    // ---- structure inside sections ----

    [Fact]
    public void HugeTensorCount_IsBoundedByTheLimit()
    {
        string message = ReadErrorAfterPatch(EmnTestFile.Tensors, 0, 0x7FFFFFFF);
        Assert.Matches(@"^model.emn: tensors section: tensor count 2147483647 at file offset \d+ exceeds the limit of 1048576$", message);
    }

    [Fact]
    public void TensorCount_IsBoundedByTheBytesPresent()
    {
        string message = ReadErrorAfterPatch(EmnTestFile.Tensors, 0, 100_000);
        Assert.Matches(@"^model.emn: tensors section: tensor count 100000 at file offset \d+ needs at least 800000 bytes, only \d+ left in the tensors section$", message);
    }

    [Fact]
    public void TooFewRecords_LeaveTrailingBytes()
    {
        string message = ReadErrorAfterPatch(EmnTestFile.Tensors, 0, 3);
        Assert.Matches(@"^model.emn: tensors section: \d+ unexpected bytes at the end \(file offset \d+\)$", message);
    }

    [Fact]
    public void StringLongerThanTheSection_IsRejected()
    {
        // The tensors section starts: u32 count, then tensor 0's name length.
        string message = ReadErrorAfterPatch(EmnTestFile.Tensors, 4, 4000);
        Assert.Matches(@"^model.emn: tensor 0: tensor name at file offset \d+: needs 4000 bytes, only \d+ left in the tensors section$", message);
    }

    [Fact]
    public void DataOffsetOutsideTheWeights_IsRejected()
    {
        var file = new EmnTestFile(EmnWriter.Write(EmnTestModels.WithTrailingConstant()));
        (int offset, int length) = file.Section(EmnTestFile.Tensors);
        int weightsLength = file.Section(EmnTestFile.Weights).Length;
        file.SetU64(offset + length - 16, 64 * 1000);
        file.RepairChecksums();
        Assert.Equal($"model.emn: tensor 15 'extra/constant': data offset 64000 + length 16 exceeds the weights section ({weightsLength} bytes)",
            ReadError(file.Bytes));
    }

    [Fact]
    public void MisalignedDataOffset_IsRejected()
    {
        var file = new EmnTestFile(EmnWriter.Write(EmnTestModels.WithTrailingConstant()));
        (int offset, int length) = file.Section(EmnTestFile.Tensors);
        file.SetU64(offset + length - 16, 4);
        file.RepairChecksums();
        Assert.Equal("model.emn: tensor 15 'extra/constant': data offset 4 is not a multiple of 64", ReadError(file.Bytes));
    }

    [Fact]
    public void DataLengthNotMatchingTheShape_IsRejected()
    {
        var file = new EmnTestFile(EmnWriter.Write(EmnTestModels.WithTrailingConstant()));
        (int offset, int length) = file.Section(EmnTestFile.Tensors);
        file.SetU64(offset + length - 8, 12);
        file.RepairChecksums();
        Assert.Equal("model.emn: tensor 15 'extra/constant': constant data is 12 bytes, f32[2x2] needs 16", ReadError(file.Bytes));
    }

    [Fact]
    public void InvalidUtf8_IsRejected()
    {
        var file = new EmnTestFile(ValidBytes());
        (int offset, _) = file.Section(EmnTestFile.Labels);
        file.Bytes[offset + 12] = 0xFF; // label offset, count, length of "cat", then 'c'
        file.RepairChecksums();
        Assert.Matches(@"^model.emn: labels: label at file offset \d+ is not valid UTF-8$", ReadError(file.Bytes));
    }

    [Fact]
    public void NegativeLabelOffset_IsRejected()
    {
        Assert.Equal("model.emn: labels: label offset -1, must be 0..1048576", ReadErrorAfterPatch(EmnTestFile.Labels, 0, uint.MaxValue));
    }

    [Fact]
    public void GraphOutputOutOfRange_IsRejected()
    {
        var file = new EmnTestFile(ValidBytes());
        (int offset, int length) = file.Section(EmnTestFile.Graph);
        file.SetU32(offset + length - 4, 15);
        file.RepairChecksums();
        Assert.Equal("model.emn: graph: graph output 0 is tensor 15, but the model has 15 tensors", ReadError(file.Bytes));
    }

    [Fact]
    public void OperatorOutputOutOfRange_InTheFile_IsRejected()
    {
        var file = new EmnTestFile(ValidBytes());
        (int offset, int length) = file.Section(EmnTestFile.Operators);
        file.SetU32(offset + length - 4, unchecked((uint)-7));
        file.RepairChecksums();
        Assert.Equal("model.emn: operator 7 'softmax' (Softmax): output 0 is tensor -7, but the model has 15 tensors", ReadError(file.Bytes));
    }

    // ---- model-level rules: the writer and the reader report the same thing ----

    [Fact]
    public void OperatorInputOutOfRange_IsRejected() => AssertRejected(
        m => m.Operators[1].Inputs[1] = 99,
        "operator 1 'conv1' (Conv2D): input 1 is tensor 99, but the model has 15 tensors");

    [Fact]
    public void Int8TensorWithoutQuantization_IsRejected() => AssertRejected(
        m => m.Tensors[4].Quantization = null,
        "tensor 4 'conv1/output': i8 tensor has no quantization");

    [Fact]
    public void PerChannelScaleCountMismatch_IsRejected() => AssertRejected(
        m => m.Tensors[2].Quantization = new QuantizationInfo([0.1f, 0.2f, 0.3f], [0, 0, 0], axis: 0),
        "tensor 2 'conv1/weights': per-channel quantization has 3 scales, but dim 0 of shape [4x3x3x3] is 4");

    [Fact]
    public void PerChannelAxisOutOfRange_IsRejected() => AssertRejected(
        m => m.Tensors[2].Quantization = new QuantizationInfo([0.1f, 0.2f, 0.3f, 0.4f], [0, 0, 0, 0], axis: 4),
        "tensor 2 'conv1/weights': per-channel quantization axis 4 is out of range for rank 4");

    [Fact]
    public void NonPositiveScale_IsRejected() => AssertRejected(
        m => m.Tensors[1].Quantization = QuantizationInfo.PerTensor(0f, 0),
        "tensor 1 'input/quantized': quantization scale 0 is 0, must be finite and > 0");

    [Fact]
    public void NaNScale_IsRejected() => AssertRejected(
        m => m.Tensors[1].Quantization = QuantizationInfo.PerTensor(float.NaN, 0),
        "tensor 1 'input/quantized': quantization scale 0 is NaN, must be finite and > 0");

    [Fact]
    public void Int8ZeroPointOutOfRange_IsRejected() => AssertRejected(
        m => m.Tensors[4].Quantization = QuantizationInfo.PerTensor(0.5f, 128),
        "tensor 4 'conv1/output': quantization zero point 0 is 128, must be in -128..127 for i8");

    [Fact]
    public void Int32BiasWithNonZeroZeroPoint_IsRejected() => AssertRejected(
        m => m.Tensors[6].Quantization = QuantizationInfo.PerTensor(0.001f, 3),
        "tensor 6 'dw1/bias': quantization zero point 0 is 3, must be 0 for i32");

    [Fact]
    public void QuantizedFloatTensor_IsRejected() => AssertRejected(
        m => m.Tensors[0].Quantization = QuantizationInfo.PerTensor(1f, 0),
        "tensor 0 'input': f32 tensor must not have quantization");

    [Fact]
    public void UnknownDataType_IsRejected() => AssertRejected(
        m => m.Tensors[0].DataType = (DataType)9,
        "tensor 0 'input': unknown data type code 9");

    [Fact]
    public void ZeroDim_IsRejected() => AssertRejected(
        m => m.Tensors[9].Shape = [1, 0, 1, 4],
        "tensor 9 'pool': shape [1x0x1x4]: dim 1 is 0, must be >= 1");

    [Fact]
    public void RankAboveSix_IsRejected() => AssertRejected(
        m => m.Tensors[9].Shape = [1, 1, 1, 1, 1, 1, 4],
        "tensor 9 'pool': rank 7 exceeds the limit of 6");

    [Fact]
    public void ElementCountOverflow_IsRejected() => AssertRejected(
        m => m.Tensors[9].Shape = [int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue],
        "tensor 9 'pool': shape [2147483647x2147483647x2147483647x2147483647] of f32 exceeds the limit of 2147483647 bytes");

    [Fact]
    public void ConstantOfWrongSize_IsRejected() => AssertRejected(
        m => m.Tensors[12].Data = new byte[11],
        "tensor 12 'fc/bias': constant data is 11 bytes, f32[3] needs 12");

    [Fact]
    public void UnknownOperatorType_IsRejected() => AssertRejected(
        m => m.Operators[3].Type = (OperatorType)77,
        "operator 3 'dequantize': unknown operator type code 77");

    [Fact]
    public void OperatorWithoutOutputs_IsRejected() => AssertRejected(
        m => m.Operators[3].Outputs = [],
        "operator 3 'dequantize' (Dequantize): 0 outputs, must be 1..16");

    [Fact]
    public void ZeroStride_IsRejected() => AssertRejected(
        m => m.Operators[1].Attributes = m.Operators[1].Attributes with { StrideW = 0 },
        "operator 1 'conv1' (Conv2D): StrideW is 0, must be in 1..65536");

    [Fact]
    public void NegativePadding_IsRejected() => AssertRejected(
        m => m.Operators[2].Attributes = m.Operators[2].Attributes with { PadBottom = -1 },
        "operator 2 'dw1' (DepthwiseConv2D): PadBottom is -1, must be in 0..65536");

    [Fact]
    public void UnknownActivation_IsRejected() => AssertRejected(
        m => m.Operators[1].Attributes = m.Operators[1].Attributes with { Activation = (FusedActivation)9 },
        "operator 1 'conv1' (Conv2D): unknown fused activation code 9");

    [Fact]
    public void SoftmaxWithZeroBeta_IsRejected() => AssertRejected(
        m => m.Operators[7].Attributes = default,
        "operator 7 'softmax' (Softmax): Beta is 0, must be finite and > 0");

    [Fact]
    public void MissingGraphInput_IsRejected() => AssertRejected(
        m => m.Inputs.Clear(),
        "graph: 0 graph inputs, must be 1..1024");

    [Fact]
    public void ChannelsNotMatchingColourOrder_AreRejected() => AssertRejected(
        m => m.InputContract!.Channels = 4,
        "input contract: 4 channels, colour order Rgb needs 3");

    [Fact]
    public void ZeroStd_IsRejected() => AssertRejected(
        m => m.InputContract!.Std = [1f, 0f, 1f],
        "input contract: std[1] is 0, must be finite and > 0");

    [Fact]
    public void ZeroImageSize_IsRejected() => AssertRejected(
        m => m.InputContract!.Width = 0,
        "input contract: image size 0x8, each side must be 1..65536");

    [Fact]
    public void UnknownColourOrder_IsRejected() => AssertRejected(
        m => m.InputContract!.ColorOrder = (ColorOrder)7,
        "input contract: unknown colour order code 7");

    [Fact]
    public void NegativeLabelOffset_InTheModel_IsRejected() => AssertRejected(
        m => m.LabelOffset = -2,
        "labels: label offset -2, must be 0..1048576");

    // ---- writer-only rules (models that cannot be encoded at all) ----

    [Fact]
    public void UnpairedSurrogate_IsRejectedByTheWriter()
    {
        ModelDefinition m = EmnTestModels.Small();
        m.Labels[0] = "bad\uD800";
        var e = Assert.Throws<ModelFormatException>(() => EmnWriter.Write(m));
        Assert.Equal("model 'tiny-mobilenet': labels: label 0 is not valid Unicode (unpaired surrogate)", e.Message);
    }

    [Fact]
    public void OverlongName_IsRejectedByTheWriter()
    {
        ModelDefinition m = EmnTestModels.Small();
        m.Tensors[0].Name = new string('n', 4097);
        var e = Assert.Throws<ModelFormatException>(() => EmnWriter.Write(m));
        Assert.EndsWith("name is 4097 UTF-8 bytes, exceeds the limit of 4096", e.Message);
    }

    [Fact]
    public void NamesWithLineBreaks_StayOnOneLineInMessages()
    {
        ModelDefinition m = EmnTestModels.Small();
        m.Tensors[4].Name = "evil\nname\u2028";
        m.Tensors[4].Quantization = null;
        byte[] bytes = EmnWriter.Write(m, validate: false);
        Assert.Equal(@"model.emn: tensor 4 'evil\u000Aname\u2028': i8 tensor has no quantization", ReadError(bytes));
    }

    // ---- helpers ----

    private static byte[] ValidBytes() => EmnWriter.Write(EmnTestModels.Small());

    private static string ReadError(byte[] bytes)
    {
        var e = Assert.Throws<ModelFormatException>(() => EmnReader.Read(bytes, Source));
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    private static string ReadErrorAfterPatch(uint sectionKind, int offsetInSection, uint value)
    {
        var file = new EmnTestFile(ValidBytes());
        file.SetU32(file.Section(sectionKind).Offset + offsetInSection, value);
        file.RepairChecksums();
        return ReadError(file.Bytes);
    }

    /// <summary>The writer rejects the broken model; a file holding it anyway is rejected by the reader with the same words.</summary>
    private static void AssertRejected(Action<ModelDefinition> breakModel, string expected)
    {
        ModelDefinition m = EmnTestModels.Small();
        breakModel(m);
        var e = Assert.Throws<ModelFormatException>(() => EmnWriter.Write(m));
        Assert.Equal($"model 'tiny-mobilenet': {expected}", e.Message);

        byte[] bytes = EmnWriter.Write(m, validate: false);
        Assert.Equal($"{Source}: {expected}", ReadError(bytes));
    }
}
