using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeMobileNet.Kernels.Quantization;
using EdgeMobileNet.Kernels.Simd;
using Xunit;

namespace EdgeMobileNet.Tests.Kernels;

/// <summary>
/// The AVX2 output steps' rounding, lane by lane against <see cref="FixedPoint.MultiplyByQuantizedMultiplier"/>:
/// the general sequence (<c>Qs8Requantize8</c>) and the shorter one (<c>Qs8RequantizeRight8</c>) on the latter's
/// domain (right shifts only, |acc| &lt; 2^30), with both of TFLite's roundings at ties.
/// </summary>
public class Qs8RoundingTests
{
    // Multipliers whose products land on ties of the first rounding ((x * m) mod 2^31 = 2^30 for odd x with m = 2^30),
    // near the ends of QuantizeMultiplier's range, and zero.
    private static readonly int[] EdgeMultipliers = [1 << 30, (1 << 30) + 1, 3 << 29, int.MaxValue, int.MaxValue - 1, 0, 1518500250];

    /// <summary>Eight channels' multipliers (often at <see cref="EdgeMultipliers"/>) and right shifts of 1 to 31.</summary>
    private static (int[] Multipliers, int[] Shifts) RandomRightShifts(Random random)
    {
        var multipliers = new int[8];
        var shifts = new int[8];
        for (int c = 0; c < 8; c++)
        {
            multipliers[c] = random.Next(3) == 0 ? EdgeMultipliers[random.Next(EdgeMultipliers.Length)] : random.Next(1 << 30, int.MaxValue);
            // Small shifts put ties of the second rounding within reach of small accumulators.
            shifts[c] = -(random.Next(2) == 0 ? random.Next(1, 7) : random.Next(1, 32));
        }
        return (multipliers, shifts);
    }

    /// <summary>Eight accumulators inside the right-shift step's domain (|acc| &lt; 2^30), of one of four kinds.</summary>
    private static int[] RandomAccumulators(Random random, int kind)
    {
        var acc = new int[8];
        for (int c = 0; c < 8; c++)
        {
            acc[c] = kind switch
            {
                0 => random.Next(-4096, 4097), // dense small values: ties of both roundings
                1 => random.Next(-(1 << 30) + 1, 1 << 30), // the whole domain
                2 => (random.Next(2) == 0 ? 1 : -1) * ((1 << 30) - 1 - random.Next(16)), // its ends
                _ => random.Next(-64, 65) * (1 << random.Next(0, 20)) + random.Next(-1, 2), // near powers of two
            };
        }
        return acc;
    }

    [Fact]
    public void Avx2RoundingsMatchFixedPointAtTiesAndAtRandom()
    {
        if (!Avx2.IsSupported) return; // the AVX2 steps cannot run on this CPU; the selftest covers the ARM paths
        var random = new Random(77);
        int checkedLanes = 0;
        for (int round = 0; round < 400; round++)
        {
            var (multipliers, shifts) = RandomRightShifts(random);
            var p = new Qs8ChannelParams(new Qs8OutputParams(multipliers, shifts, 0, -128, 127), 8, 8);
            Assert.True(p.AllShiftRight);
            var rightShift = Qs8RequantizeRight8.Load(p, 0);
            var general = Qs8Requantize8.Load(p, 0);
            for (int i = 0; i < 64; i++)
            {
                var acc = RandomAccumulators(random, i % 4);
                var v = Vector256.Create(acc);
                var fromRightShift = rightShift.Round(v);
                var fromGeneral = general.Round(v);
                for (int c = 0; c < 8; c++)
                {
                    int expected = FixedPoint.MultiplyByQuantizedMultiplier(acc[c], multipliers[c], shifts[c]);
                    Assert.True(expected == fromRightShift.GetElement(c),
                        $"right-shift: acc {acc[c]} multiplier {multipliers[c]} shift {shifts[c]}: expected {expected}, got {fromRightShift.GetElement(c)}");
                    Assert.True(expected == fromGeneral.GetElement(c),
                        $"general: acc {acc[c]} multiplier {multipliers[c]} shift {shifts[c]}: expected {expected}, got {fromGeneral.GetElement(c)}");
                    checkedLanes++;
                }
            }
        }
        Assert.Equal(400 * 64 * 8, checkedLanes);
    }

    /// <summary>
    /// The clamped variant (outputs clamped at or above the zero point): exact for accumulators &gt;= 0, at most 0 for
    /// negative ones, whose exact results are at most 0 too, so both clamp to the minimum.
    /// </summary>
    [Fact]
    public void ClampedRightShiftRoundingIsExactWhereTheClampDoesNotDecide()
    {
        if (!Avx2.IsSupported) return;
        var random = new Random(78);
        for (int round = 0; round < 400; round++)
        {
            // Three groups of 8 channels (its parameters are laid out per group), the one under test by turns.
            var groups = Enumerable.Range(0, 3).Select(_ => RandomRightShifts(random)).ToArray();
            int[] allMultipliers = [.. groups.SelectMany(g => g.Multipliers)], allShifts = [.. groups.SelectMany(g => g.Shifts)];
            var p = new Qs8ChannelParams(new Qs8OutputParams(allMultipliers, allShifts, -128, -128, 127), 24, 24);
            var (multipliers, shifts) = groups[round % 3];
            var clamped = Qs8RequantizeRightClamped8.Load(p, 8 * (round % 3));
            for (int i = 0; i < 64; i++)
            {
                var acc = RandomAccumulators(random, i % 4);
                var r = clamped.Round(Vector256.Create(acc));
                for (int c = 0; c < 8; c++)
                {
                    int expected = FixedPoint.MultiplyByQuantizedMultiplier(acc[c], multipliers[c], shifts[c]);
                    if (acc[c] >= 0)
                        Assert.True(expected == r.GetElement(c), $"acc {acc[c]} multiplier {multipliers[c]} shift {shifts[c]}: expected {expected}, got {r.GetElement(c)}");
                    else
                        Assert.True(r.GetElement(c) <= 0 && expected <= 0, $"acc {acc[c]} shift {shifts[c]}: got {r.GetElement(c)}, exact {expected}: not both at most 0");
                }
            }
        }
        // Every tie near zero, as below, on the non-negative side.
        foreach (int e in new[] { 1, 2, 3, 4, 5, 6, 7, 8, 31 })
        {
            var p = new Qs8ChannelParams(new Qs8OutputParams([1 << 30], [-e], 0, 0, 127), 8, 8);
            var clamped = Qs8RequantizeRightClamped8.Load(p, 0);
            for (int x0 = 0; x0 <= 4096; x0 += 8)
            {
                var r = clamped.Round(Vector256.Create(x0, x0 + 1, x0 + 2, x0 + 3, x0 + 4, x0 + 5, x0 + 6, x0 + 7));
                for (int c = 0; c < 8; c++) Assert.Equal(FixedPoint.MultiplyByQuantizedMultiplier(x0 + c, 1 << 30, -e), r.GetElement(c));
            }
        }
    }

    [Theory]
    [InlineData(-128, -128, "RightShiftClamped")] // ReLU at zero point -128
    [InlineData(5, 5, "RightShiftClamped")]
    [InlineData(5, 6, "RightShiftClamped")]
    [InlineData(5, 4, "RightShift")] // the clamp lets negative results through
    [InlineData(0, -128, "RightShift")]
    public void ClampedRoundingIsChosenOnlyWhereTheClampHidesNegativeResults(int zeroPoint, int min, string expected)
    {
        var p = new Qs8ChannelParams(new Qs8OutputParams([1 << 30], [-3], zeroPoint, min, 127), 8, 8);
        Assert.Equal(Enum.Parse<Qs8RoundingKind>(expected), Qs8RequantizeRight8.Choose(p, new int[8], 64));
        // Accumulators beyond the right-shift step's bound take the general sequence whatever the clamp.
        Assert.Equal(Qs8RoundingKind.General, Qs8RequantizeRight8.Choose(p, [1 << 30, 0, 0, 0, 0, 0, 0, 0], 64));
    }

    [Fact]
    public void RightShiftRoundingMatchesFixedPointOnEveryTieNearZero()
    {
        if (!Avx2.IsSupported) return;
        // m = 2^30 halves x exactly before the shift: every odd x is a first-rounding tie, and for each shift e the
        // values x / 2 = k * 2^e +- 2^(e-1) are second-rounding ties; all x in [-2^12, 2^12] for e = 1..8 and 31.
        foreach (int e in new[] { 1, 2, 3, 4, 5, 6, 7, 8, 31 })
        foreach (int m in new[] { 1 << 30, 3 << 29 })
        {
            var p = new Qs8ChannelParams(new Qs8OutputParams([m], [-e], 0, -128, 127), 8, 8);
            var rightShift = Qs8RequantizeRight8.Load(p, 0);
            for (int x0 = -4096; x0 <= 4096; x0 += 8)
            {
                var v = Vector256.Create(x0, x0 + 1, x0 + 2, x0 + 3, x0 + 4, x0 + 5, x0 + 6, x0 + 7);
                var r = rightShift.Round(v);
                for (int c = 0; c < 8; c++)
                    Assert.Equal(FixedPoint.MultiplyByQuantizedMultiplier(x0 + c, m, -e), r.GetElement(c));
            }
        }
    }
}
