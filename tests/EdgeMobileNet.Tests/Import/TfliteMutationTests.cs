using System.Diagnostics;
using EdgeMobileNet.Import;
using EdgeMobileNet.Import.Tflite;
using Xunit;
using Xunit.Abstractions;

namespace EdgeMobileNet.Tests.Import;

/// <summary>
/// Hostile-input robustness: truncated, bit-flipped, byte-overwritten and oversized variants of valid .tflite files
/// must each give an <see cref="ImportException"/> or a valid model: never another exception, a hang or a big allocation.
/// </summary>
public sealed class TfliteMutationTests(ITestOutputHelper output)
{
    private static IEnumerable<byte[]> Mutants(byte[] original, int count, int seed)
    {
        var rng = new Random(seed);
        // Every truncation of the first 512 bytes, then random ones.
        for (int n = 0; n < Math.Min(512, original.Length); n++) yield return original[..n];
        for (int i = 0; i < count; i++)
        {
            var m = (byte[])original.Clone();
            switch (i % 5)
            {
                case 0: // flip 1..4 random bits
                    for (int k = rng.Next(1, 5); k > 0; k--) m[rng.Next(m.Length)] ^= (byte)(1 << rng.Next(8));
                    break;
                case 1: // overwrite a random 4-byte word with a hostile value (offsets, counts, vtable sizes)
                {
                    int at = rng.Next(Math.Max(m.Length - 4, 1)) & ~3;
                    uint value = rng.Next(6) switch { 0 => 0xFFFFFFFF, 1 => 0x7FFFFFFF, 2 => 0x80000000, 3 => 0, 4 => (uint)rng.Next(), _ => (uint)m.Length };
                    BitConverter.TryWriteBytes(m.AsSpan(at), value);
                    break;
                }
                case 2: // truncate anywhere
                    m = m[..rng.Next(m.Length)];
                    break;
                case 3: // oversized: trailing garbage
                    m = [.. m, .. Enumerable.Range(0, rng.Next(1, 4096)).Select(_ => (byte)rng.Next(256))];
                    break;
                default: // flip bits in the first 1 KiB, where the root table and vtables live in small files
                    for (int k = rng.Next(1, 3); k > 0; k--) m[rng.Next(Math.Min(m.Length, 1024))] ^= (byte)(1 << rng.Next(8));
                    break;
            }
            yield return m;
        }
    }

    private (int Rejected, int Accepted) Fuzz(byte[] original, int count, int seed)
    {
        var importer = new TfliteImporter();
        int rejected = 0, accepted = 0;
        long worstTicks = 0, worstAllocation = 0;
        foreach (var mutant in Mutants(original, count, seed))
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            long start = Stopwatch.GetTimestamp();
            try
            {
                importer.Import(mutant, "mutant.tflite");
                accepted++;
            }
            catch (ImportException)
            {
                rejected++;
            }
            long ticks = Stopwatch.GetTimestamp() - start;
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            worstTicks = Math.Max(worstTicks, ticks);
            worstAllocation = Math.Max(worstAllocation, allocated);
            Assert.True(allocated < 16L * mutant.Length + (8 << 20), $"import allocated {allocated} bytes for a {mutant.Length}-byte file");
            Assert.True(Stopwatch.GetElapsedTime(start).TotalSeconds < 2, "import took more than 2 s");
        }
        output.WriteLine($"{rejected} rejected, {accepted} accepted; worst {Stopwatch.GetElapsedTime(0, worstTicks).TotalMilliseconds:F1} ms, {worstAllocation} bytes");
        return (rejected, accepted);
    }

    [Fact]
    public void BuiltModelMutantsNeverEscape()
    {
        var (rejected, accepted) = Fuzz(TfliteTestBuilder.SmallInt8Model().Build(), 8000, 1);
        Assert.True(rejected + accepted >= 8000);
        Assert.True(rejected > 0);
    }

    [SkippableFact]
    public void UpstreamModelMutantsNeverEscape()
    {
        var original = File.ReadAllBytes(UpstreamModels.Require("person_detect.tflite"));
        var (rejected, accepted) = Fuzz(original, 2000, 2);
        Assert.True(rejected + accepted >= 2000); // with the 8,512 built-model mutants: more than 10,000 in all
    }
}
