using System.Buffers;
using System.Runtime.InteropServices;
using EdgeMobileNet.Format.Io;
using EdgeMobileNet.Format.Model;
using Xunit;

namespace EdgeMobileNet.Tests.Format;

public sealed class EmnRoundTripTests
{
    [Fact]
    public void Write_IsDeterministic()
    {
        Assert.Equal(EmnWriter.Write(EmnTestModels.Small()), EmnWriter.Write(EmnTestModels.Small()));
    }

    [Fact]
    public void RoundTrip_ThroughBytes_PreservesEveryFieldAndBytes()
    {
        ModelDefinition original = EmnTestModels.Small();
        byte[] bytes = EmnWriter.Write(original);

        ModelDefinition read = EmnReader.Read(bytes, "small.emn");

        EmnTestModels.AssertEquivalent(original, read);
        Assert.Equal(bytes, EmnWriter.Write(read));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void RoundTrip_MinimalModels_WithOptionalSectionsPresentOrNot(bool contract, bool labelOffsetOnly)
    {
        ModelDefinition original = EmnTestModels.Minimal();
        if (contract)
            original.InputContract = new InputContract { Width = 2, Height = 2, Channels = 1, ColorOrder = ColorOrder.Grayscale };
        if (labelOffsetOnly) original.LabelOffset = 1;
        byte[] bytes = EmnWriter.Write(original);

        ModelDefinition read = EmnReader.Read(bytes, "minimal.emn");

        EmnTestModels.AssertEquivalent(original, read);
        Assert.Equal(bytes, EmnWriter.Write(read));
        var file = new EmnTestFile(bytes);
        Assert.Equal(0, file.Section(EmnTestFile.Weights).Length);
        Assert.Equal((uint)(5 + (contract ? 1 : 0) + (labelOffsetOnly ? 1 : 0)), file.SectionCount);
    }

    [Fact]
    public void Header_FollowsTheSpecification()
    {
        byte[] bytes = EmnWriter.Write(EmnTestModels.Small());
        var file = new EmnTestFile(bytes);

        Assert.Equal(new byte[] { 0x89, 0x45, 0x4D, 0x4E, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal(1u, file.U32(EmnTestFile.VersionOffset));
        Assert.Equal(0u, file.U32(12));
        Assert.Equal(64u, file.U32(16));
        Assert.Equal(7u, file.SectionCount);
        Assert.Equal((ulong)bytes.Length, file.U64(EmnTestFile.FileLengthOffset));
        Assert.True(bytes.AsSpan(32, 28).IndexOfAnyExcept((byte)0) < 0, "reserved header bytes are zero");
        for (uint kind = 1; kind <= 7; kind++)
            Assert.Equal(EmnTestFile.EntryOffset((int)kind - 1), EmnTestFile.EntryOffset(file.EntryIndex(kind)));
        Assert.Equal(0, file.Section(EmnTestFile.Weights).Offset % 64);
    }

    [Fact]
    public void Checksums_AreCrc32C_AsSpecified()
    {
        Assert.Equal(0xE3069283u, EmnTestFile.Crc32C("123456789"u8));
        byte[] bytes = EmnWriter.Write(EmnTestModels.Small());
        var repaired = new EmnTestFile((byte[])bytes.Clone());

        repaired.RepairChecksums();

        Assert.Equal(bytes, repaired.Bytes);
    }

    [Fact]
    public void FromBytes_ConstantsAreUncopiedSlices_AlignedTo64()
    {
        byte[] bytes = EmnWriter.Write(EmnTestModels.Small());
        using EmnModelFile file = EmnModelFile.FromBytes(bytes, "small.emn");

        Assert.Equal("small.emn", file.SourceName);
        Assert.Equal(bytes.Length, file.FileLength);
        int constants = 0;
        foreach (TensorDefinition tensor in file.Model.Tensors.Where(t => t.IsConstant))
        {
            Assert.True(MemoryMarshal.TryGetArray(tensor.Data!.Value, out ArraySegment<byte> segment));
            Assert.Same(bytes, segment.Array);
            Assert.Equal(0, segment.Offset % 64);
            constants++;
        }
        Assert.Equal(6, constants);
    }

    [Fact]
    public void Open_MemoryMapsTheFile_AndRoundTrips()
    {
        ModelDefinition original = EmnTestModels.Small();
        string path = Path.Combine(Path.GetTempPath(), $"emn-{Guid.NewGuid():N}.emn");
        try
        {
            EmnWriter.WriteFile(original, path);
            byte[] written = File.ReadAllBytes(path);
            ReadOnlyMemory<byte> someConstant;
            using (EmnModelFile file = EmnModelFile.Open(path))
            {
                Assert.Equal(path, file.SourceName);
                Assert.Equal(written.Length, file.FileLength);
                EmnTestModels.AssertEquivalent(original, file.Model);
                Assert.Equal(written, EmnWriter.Write(file.Model));
                AssertMappedAndAligned(file.Model);
                someConstant = file.Model.Tensors.First(t => t.IsConstant).Data!.Value;
            }
            Assert.Throws<ObjectDisposedException>(() => someConstant.Span.Length);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static unsafe void AssertMappedAndAligned(ModelDefinition model)
    {
        foreach (TensorDefinition tensor in model.Tensors.Where(t => t.IsConstant))
        {
            ReadOnlyMemory<byte> data = tensor.Data!.Value;
            Assert.True(MemoryMarshal.TryGetMemoryManager(data, out MemoryManager<byte>? _), $"{tensor.Name} is not a mapped slice");
            using MemoryHandle handle = data.Pin();
            Assert.Equal(0L, (long)handle.Pointer % 64);
        }
    }

    [Fact]
    public void Open_DisposeTwice_IsHarmless()
    {
        string path = Path.Combine(Path.GetTempPath(), $"emn-{Guid.NewGuid():N}.emn");
        try
        {
            EmnWriter.WriteFile(EmnTestModels.Minimal(), path);
            EmnModelFile file = EmnModelFile.Open(path);
            file.Dispose();
            file.Dispose();
        }
        finally
        {
            File.Delete(path);
        }
    }
}
