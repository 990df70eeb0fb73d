using System.Diagnostics;
using System.Text;
using EdgeMobileNet.Import;
using EdgeMobileNet.Import.Onnx;
using Xunit;
using Xunit.Abstractions;

namespace EdgeMobileNet.Tests.Import;

/// <summary>Hostile .onnx input: every variant is an ImportException or a valid model, never anything else.</summary>
public sealed class OnnxMutationTests(ITestOutputHelper output)
{
    [Fact]
    public void Ten_thousand_mutated_models_fail_cleanly_or_import_validly()
    {
        var f32 = OnnxTestSupport.SmallModel();
        byte[][] seeds = [OnnxExporter.Export(f32), OnnxExporter.Export(OnnxTestSupport.Quantized(OnnxTestSupport.SmallModel()))];
        var random = new Random(20261125);
        var stopwatch = Stopwatch.StartNew();
        int rejected = 0, imported = 0;
        const int variants = 10_000;
        for (int n = 0; n < variants; n++)
        {
            byte[] seed = seeds[n % 2];
            byte[] bytes = Mutate(seed, random, n);
            try
            {
                var model = new OnnxImporter().Import(bytes, "mutant.onnx").Model;
                Assert.NotEmpty(model.Operators);
                imported++;
            }
            catch (ImportException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
                if (e.Message.Contains("internal importer error", StringComparison.Ordinal))
                {
                    File.WriteAllBytes(Path.Combine(Path.GetTempPath(), "onnx_mutant.onnx"), bytes);
                    Assert.Fail($"variant {n}: {e.Message}");
                }
                rejected++;
            }
            catch (Exception e)
            {
                File.WriteAllBytes(Path.Combine(Path.GetTempPath(), "onnx_mutant.onnx"), bytes);
                Assert.Fail($"variant {n} ({bytes.Length} bytes) threw {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
        }
        stopwatch.Stop();
        output.WriteLine($"{variants} variants: {rejected} ImportException, {imported} valid models, {stopwatch.Elapsed.TotalSeconds:F1} s");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(60), $"took {stopwatch.Elapsed}");
        Assert.True(rejected > variants / 4);
    }

    private static byte[] Mutate(byte[] seed, Random random, int n)
    {
        switch (n % 5)
        {
            case 0: // truncated
                return seed[..random.Next(seed.Length)];
            case 1: // bit flips
            {
                var bytes = (byte[])seed.Clone();
                int flips = 1 + random.Next(8);
                for (int i = 0; i < flips; i++) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return bytes;
            }
            case 2: // oversized varints / lengths: a run of 0xFF bytes
            {
                var bytes = (byte[])seed.Clone();
                int at = random.Next(bytes.Length);
                int run = 1 + random.Next(10);
                for (int i = at; i < Math.Min(bytes.Length, at + run); i++) bytes[i] = 0xFF;
                return bytes;
            }
            case 3: // random bytes overwritten
            {
                var bytes = (byte[])seed.Clone();
                int count = 1 + random.Next(16);
                for (int i = 0; i < count; i++) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                return bytes;
            }
            default: // a chunk duplicated or removed (shifted fields)
            {
                int at = random.Next(seed.Length);
                int length = random.Next(1, 64);
                var list = new List<byte>(seed);
                if (random.Next(2) == 0) list.InsertRange(at, seed.Skip(at).Take(length));
                else list.RemoveRange(at, Math.Min(length, seed.Length - at));
                return [.. list];
            }
        }
    }

    [Fact]
    public void Unsupported_operators_are_all_listed_in_one_exception()
    {
        byte[] bytes = OnnxExporter.Export(OnnxTestSupport.SmallModel());
        // Rename every op_type "Gemm" and "GlobalAveragePool" (names keep their length, so the protobuf stays valid).
        Replace(bytes, "Gemm", "Gemx");
        Replace(bytes, "GlobalAveragePool", "GlobalAveragePoox");
        var e = Assert.Throws<ImportException>(() => new OnnxImporter().Import(bytes, "bad.onnx"));
        Assert.Contains("(Gemx): unsupported operator", e.Message);
        Assert.Contains("(GlobalAveragePoox): unsupported operator", e.Message);
        Assert.Contains("cannot import 2 item(s)", e.Message);
        Assert.Matches(@"node \d+ '", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Malformed_bytes_are_rejected_clearly()
    {
        byte[] bytes = OnnxExporter.Export(OnnxTestSupport.SmallModel());
        var onnx = OnnxProtoReader.ReadModel(bytes);
        Assert.NotNull(onnx.Graph);
        Assert.Equal(13, onnx.DefaultOpset);
        var e = Assert.Throws<ImportException>(() => new OnnxImporter().Import([0x08, 0x07, 0x3A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], "short.onnx"));
        Assert.Contains("short.onnx", e.Message);
        var garbage = Encoding.ASCII.GetBytes("this is not an onnx file at all");
        Assert.Throws<ImportException>(() => new OnnxImporter().Import(garbage, "text.onnx"));
    }

    private static void Replace(byte[] bytes, string from, string to)
    {
        var f = Encoding.ASCII.GetBytes(from);
        var t = Encoding.ASCII.GetBytes(to);
        for (int i = 0; i + f.Length <= bytes.Length; i++)
            if (bytes.AsSpan(i, f.Length).SequenceEqual(f)) t.CopyTo(bytes, i);
    }
}
