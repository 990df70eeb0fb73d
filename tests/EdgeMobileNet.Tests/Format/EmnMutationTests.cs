using EdgeMobileNet.Format;
using EdgeMobileNet.Format.Io;
using EdgeMobileNet.Format.Model;
using Xunit;
using Xunit.Abstractions;

namespace EdgeMobileNet.Tests.Format;

/// <summary>
/// Hostile input: for seeded random corruptions the reader either returns a model that writes and
/// re-reads validly, or throws <see cref="ModelFormatException"/>. Any other exception fails.
/// </summary>
public sealed class EmnMutationTests(ITestOutputHelper output)
{
    private static readonly byte[] Valid = EmnWriter.Write(EmnTestModels.Small());

    private static readonly uint[] InterestingValues =
    [
        0, 1, 2, 3, 6, 7, 8, 15, 16, 63, 64, 65, 127, 128, 255, 256, 4095, 4096, 4097, 65535, 65536,
        0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0xFFFF_FFFE, 0x0010_0000, 0x0010_0001,
    ];

    [Fact]
    public void RandomBitFlips_AreAllDetected()
    {
        var random = new Random(1234);
        var outcome = new Outcome();
        for (int i = 0; i < 2000; i++)
        {
            byte[] bytes = (byte[])Valid.Clone();
            int flips = random.Next(1, 4);
            for (int f = 0; f < flips; f++)
                bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
            outcome.Add(ReadSafely(bytes, $"bit flips #{i}"));
        }
        output.WriteLine(outcome.ToString());
        // Only padding between sections is not covered by a checksum.
        Assert.True(outcome.Rejected > 1900, $"{outcome}");
    }

    [Fact]
    public void RandomBitFlips_BehindRepairedChecksums_AreHandled()
    {
        var random = new Random(5678);
        var outcome = new Outcome();
        for (int i = 0; i < 3000; i++)
        {
            var file = new EmnTestFile((byte[])Valid.Clone());
            int flips = random.Next(1, 3);
            for (int f = 0; f < flips; f++)
                file.Bytes[random.Next(EmnTestFile.HeaderSize, file.Bytes.Length)] ^= (byte)(1 << random.Next(8));
            file.RepairChecksums();
            outcome.Add(ReadSafely(file.Bytes, $"repaired bit flips #{i}"));
        }
        output.WriteLine(outcome.ToString());
        Assert.True(outcome.Accepted > 100 && outcome.Rejected > 100, $"{outcome}");
        Assert.True(outcome.DistinctProblems > 30, $"{outcome}");
    }

    [Fact]
    public void CountAndOffsetOverwrites_BehindRepairedChecksums_AreHandled()
    {
        var random = new Random(91011);
        var outcome = new Outcome();
        for (int i = 0; i < 3000; i++)
        {
            var file = new EmnTestFile((byte[])Valid.Clone());
            int position = random.Next(0, file.Bytes.Length - 8);
            uint value = InterestingValues[random.Next(InterestingValues.Length)];
            if (random.Next(4) == 0)
                file.SetU64(position, random.Next(2) == 0 ? value : ulong.MaxValue - value);
            else
                file.SetU32(position, value);
            file.RepairChecksums();
            outcome.Add(ReadSafely(file.Bytes, $"overwrite #{i} at {position} with {value}"));
        }
        output.WriteLine(outcome.ToString());
        Assert.True(outcome.Rejected > 1000, $"{outcome}");
        Assert.True(outcome.DistinctProblems > 50, $"{outcome}");
    }

    [Fact]
    public void SectionTableOverwrites_AreHandled()
    {
        var random = new Random(1213);
        var outcome = new Outcome();
        for (int i = 0; i < 1000; i++)
        {
            var file = new EmnTestFile((byte[])Valid.Clone());
            int entry = EmnTestFile.EntryOffset(random.Next((int)file.SectionCount));
            int field = random.Next(4);
            uint value = InterestingValues[random.Next(InterestingValues.Length)];
            if (field < 2) file.SetU32(entry + field * 4, value);
            else file.SetU64(entry + 8 * (field - 1), random.Next(2) == 0 ? value : (ulong)random.Next(Valid.Length));
            file.RepairChecksums();
            outcome.Add(ReadSafely(file.Bytes, $"table overwrite #{i}"));
        }
        output.WriteLine(outcome.ToString());
        Assert.True(outcome.Rejected > 500, $"{outcome}");
    }

    [Fact]
    public void TruncationAtEveryLength_IsRejected()
    {
        foreach (byte[] valid in new[] { Valid, EmnWriter.Write(EmnTestModels.Minimal()) })
        {
            for (int length = 0; length < valid.Length; length++)
            {
                byte[] truncated = valid[..length];
                Assert.False(ReadSafely(truncated, $"truncated to {length}").Accepted, $"truncated to {length} was accepted");
            }
        }
    }

    [Fact]
    public void TruncationWithRepairedHeader_IsHandled()
    {
        for (int length = EmnTestFile.HeaderSize; length < Valid.Length; length += 3)
        {
            var file = new EmnTestFile(Valid[..length]);
            file.SetU64(EmnTestFile.FileLengthOffset, (ulong)length);
            file.RepairChecksums();
            Assert.False(ReadSafely(file.Bytes, $"truncated to {length}, header repaired").Accepted);
        }
    }

    [Fact]
    public void AppendedGarbage_IsRejected_UnlessTheHeaderIsRepaired()
    {
        var random = new Random(1415);
        for (int i = 0; i < 300; i++)
        {
            byte[] garbage = new byte[random.Next(1, 300)];
            random.NextBytes(garbage);
            byte[] bytes = [.. Valid, .. garbage];
            Assert.False(ReadSafely(bytes, $"garbage #{i}").Accepted);

            var repaired = new EmnTestFile(bytes);
            repaired.SetU64(EmnTestFile.FileLengthOffset, (ulong)bytes.Length);
            repaired.RepairChecksums();
            Assert.True(ReadSafely(repaired.Bytes, $"garbage #{i}, header repaired").Accepted);
        }
    }

    [Fact]
    public void RandomBytes_AreRejected()
    {
        var random = new Random(1617);
        for (int i = 0; i < 500; i++)
        {
            byte[] bytes = new byte[random.Next(0, 2000)];
            random.NextBytes(bytes);
            if (bytes.Length >= 8 && random.Next(2) == 0) Valid.AsSpan(0, 8).CopyTo(bytes);
            Assert.False(ReadSafely(bytes, $"random #{i}").Accepted);
        }
    }

    /// <summary>Reads; an accepted model must write, and its bytes must re-read and re-write identically.</summary>
    private static Result ReadSafely(byte[] bytes, string what)
    {
        ModelDefinition model;
        try
        {
            model = EmnReader.Read(bytes, "mutant.emn");
        }
        catch (ModelFormatException e)
        {
            Assert.DoesNotContain('\n', e.Message);
            Assert.StartsWith("mutant.emn: ", e.Message);
            return new Result(false, e.Message);
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} instead of ModelFormatException: {e}");
            throw;
        }
        byte[] rewritten = EmnWriter.Write(model);
        Assert.Equal(rewritten, EmnWriter.Write(EmnReader.Read(rewritten, "rewritten.emn")));
        return new Result(true, null);
    }

    private readonly record struct Result(bool Accepted, string? Message);

    private sealed class Outcome
    {
        private readonly HashSet<string> _problems = [];

        public int Accepted { get; private set; }
        public int Rejected { get; private set; }
        public int DistinctProblems => _problems.Count;

        public void Add(Result result)
        {
            if (result.Accepted)
            {
                Accepted++;
                return;
            }
            Rejected++;
            // "mutant.emn: tensor 3 'x': quantization scale 0 is ..." -> the problem without numbers.
            _problems.Add(new string([.. result.Message!.Where(c => !char.IsDigit(c))]));
        }

        public override string ToString() => $"accepted {Accepted}, rejected {Rejected}, distinct problems {DistinctProblems}";
    }
}
