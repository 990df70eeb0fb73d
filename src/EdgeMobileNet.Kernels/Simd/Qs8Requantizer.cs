using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Kernels.Simd;

/// <summary>
/// <see cref="Qs8OutputParams"/> unpacked per output channel (padded to a multiple of the kernel's channel
/// block, at least 4 and a multiple of 4) for the vectorized requantization in <see cref="Qs8Requantizer"/>.
/// Pinned arrays: the kernels read them through pointers.
/// </summary>
public sealed unsafe class Qs8ChannelParams
{
    private readonly AlignedBuffer<int> _data;
    private readonly AlignedBuffer<int> _rightShiftGroups;

    public Qs8ChannelParams(Qs8OutputParams p, int channels, int paddedChannels)
        : this(p, channels, paddedChannels, null)
    {
    }

    /// <summary>
    /// Entry e holds channel <paramref name="channelOfEntry"/>[e] (clamped to the last channel): for kernels whose
    /// output step requantizes lanes in another order than consecutive channels.
    /// </summary>
    public Qs8ChannelParams(Qs8OutputParams p, int channels, ReadOnlySpan<int> channelOfEntry)
        : this(p, channels, channelOfEntry.Length, channelOfEntry.ToArray())
    {
    }

    private Qs8ChannelParams(Qs8OutputParams p, int channels, int paddedChannels, int[]? channelOfEntry)
    {
        paddedChannels = Math.Max((paddedChannels + 3) & ~3, 4);
        Padded = paddedChannels;
        _data = new AlignedBuffer<int>(paddedChannels * 7);
        Multiplier = _data.Pointer;
        LeftMultiplier = Multiplier + paddedChannels;
        RightShift = Multiplier + 2 * paddedChannels;
        Mask = Multiplier + 3 * paddedChannels;
        HalfMask = Multiplier + 4 * paddedChannels;
        LeftShift = Multiplier + 5 * paddedChannels;
        NegatedRightShift = Multiplier + 6 * paddedChannels;
        var data = _data.Span;
        for (int c = 0; c < paddedChannels; c++)
        {
            int channel = channelOfEntry is null ? c : channelOfEntry[Math.Min(c, channelOfEntry.Length - 1)];
            int i = p.IsPerChannel ? Math.Min(channel, channels - 1) : 0;
            int shift = p.Shifts[i];
            if (shift < FixedPoint.MinShift || shift > FixedPoint.MaxShift)
                throw new ArgumentException($"shift {shift} is not in [-31, 30]", nameof(p));
            // QuantizeMultiplier gives 0 or [2^30, 2^31): never int.MinValue, so the wide path needs no saturation case.
            if (p.Multipliers[i] < 0) throw new ArgumentException($"multiplier {p.Multipliers[i]} is negative", nameof(p));
            var (left, right, mask) = FixedPoint.SplitShift(shift);
            data[c] = p.Multipliers[i];
            data[paddedChannels + c] = 1 << left;
            data[5 * paddedChannels + c] = left;
            data[2 * paddedChannels + c] = right;
            data[3 * paddedChannels + c] = mask;
            data[4 * paddedChannels + c] = mask >> 1;
            data[6 * paddedChannels + c] = -right;
            if (right == 0) AllShiftRight = false;
        }
        _rightShiftGroups = new AlignedBuffer<int>((paddedChannels + 7) / 8 * Qs8RequantizeRight8.GroupInts);
        if (AllShiftRight) Qs8RequantizeRight8.Pack(data[..paddedChannels], data.Slice(2 * paddedChannels, paddedChannels), _rightShiftGroups.Span);
        if (p.OutputMin < sbyte.MinValue || p.OutputMax > sbyte.MaxValue || p.OutputMin > p.OutputMax)
            throw new ArgumentException($"output clamp [{p.OutputMin}, {p.OutputMax}] is not inside int8", nameof(p));
        if (p.OutputZeroPoint < sbyte.MinValue || p.OutputZeroPoint > sbyte.MaxValue)
            throw new ArgumentException($"output zero point {p.OutputZeroPoint} is not inside int8", nameof(p));
        ZeroPoint = p.OutputZeroPoint;
        Min = p.OutputMin;
        Max = p.OutputMax;
    }

    public int Padded { get; }

    /// <summary>Every channel's shift is negative (a right shift of 1 or more, no left shift): the common case.</summary>
    public bool AllShiftRight { get; } = true;
    public int ZeroPoint { get; }
    public int Min { get; }
    public int Max { get; }

    // Stored, not computed per read: the output steps read them once per tile, inside methods too large for the
    // JIT to inline a computing getter (one showed up as a call per tile).
    public int* Multiplier { get; }
    public int* LeftMultiplier { get; }
    public int* RightShift { get; }
    public int* Mask { get; }
    public int* HalfMask { get; }
    public int* LeftShift { get; }

    /// <summary>-right shift: the count of AdvSimd's rounding shift (SRSHL shifts right by a negative count).</summary>
    public int* NegatedRightShift { get; }

    /// <summary>
    /// The operands of <see cref="Qs8RequantizeRight8"/> and <see cref="Qs8RequantizeRightClamped8"/>, per group of 8
    /// entries (filled only where <see cref="AllShiftRight"/>).
    /// </summary>
    public int* RightShiftGroups => _rightShiftGroups.Pointer;
}

/// <summary>
/// Vectorized, bit-exact <see cref="FixedPoint.MultiplyByQuantizedMultiplier"/> + zero point + clamp on four
/// int32 accumulators of consecutive output channels.
/// </summary>
public static unsafe class Qs8Requantizer
{
    /// <summary>
    /// Requantizes acc[0..count) (channels c0..c0+count) into out[0..count); <paramref name="wide"/> (a constant
    /// per kernel instantiation, true only in AVX2 kernel sets) does eight channels per step with AVX2.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Row(int* acc, sbyte* output, int count, Qs8ChannelParams p, int c0, bool wide = false)
    {
        var zp = Vector128.Create(p.ZeroPoint);
        var min = Vector128.Create(p.Min);
        var max = Vector128.Create(p.Max);
        int i = 0;
        if (wide && Avx2.IsSupported)
        {
            var zp8 = Vector256.Create(p.ZeroPoint);
            var min8 = Vector256.Create(p.Min);
            var max8 = Vector256.Create(p.Max);
            for (; i + 8 <= count; i += 8)
            {
                var r = Eight(Avx.LoadVector256(acc + i), p, c0 + i, zp8, min8, max8);
                var words = Sse2.PackSignedSaturate(r.GetLower(), r.GetUpper()); // values are inside int8 already
                Unsafe.WriteUnaligned(output + i, Sse2.PackSignedSaturate(words, words).AsInt64().ToScalar());
            }
        }
        for (; i + 4 <= count; i += 4)
        {
            var r = Four(Vector128.Load(acc + i), p, c0 + i, zp, min, max);
            var bytes = Vector128.Narrow(Vector128.Narrow(r, r), Vector128<short>.Zero); // values are inside int8 already
            Unsafe.WriteUnaligned(output + i, bytes.AsInt32().ToScalar());
        }
        if (i < count)
        {
            var r = Four(Vector128.Load(acc + i), p, c0 + i, zp, min, max);
            for (int j = 0; i + j < count; j++) output[i + j] = (sbyte)r.GetElement(j);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Four(Vector128<int> acc, Qs8ChannelParams p, int c, Vector128<int> zp,
        Vector128<int> min, Vector128<int> max)
    {
        var x = acc * Vector128.Load(p.LeftMultiplier + c); // wraps like TFLite's int32 left shift
        var h = SaturatingRoundingDoublingHighMul(x, Vector128.Load(p.Multiplier + c));
        if (AdvSimd.IsSupported)
            return Vector128.Min(Vector128.Max(RoundingDivideByPot(h, Vector128.Load(p.NegatedRightShift + c)) + zp, min), max);
        var shifted = ShiftRightArithmetic(h, Vector128.Load(p.RightShift + c));
        var remainder = h & Vector128.Load(p.Mask + c);
        var threshold = Vector128.Load(p.HalfMask + c) - Vector128.ShiftRightArithmetic(h, 31);
        var r = shifted - Vector128.GreaterThan(remainder, threshold) + zp;
        return Vector128.Min(Vector128.Max(r, min), max);
    }

    /// <summary>
    /// Eight channels [c, c + 8) held as two four-lane halves, requantized (<see cref="Four"/>) and stored as bytes: one
    /// 8-byte store, or the first <paramref name="valid"/> (below 8) of them. For tiles that requantize straight from
    /// their accumulator registers instead of storing them for <see cref="Row"/> to reload.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreEight(Vector128<int> low, Vector128<int> high, Qs8ChannelParams p, int c, Vector128<int> zp,
        Vector128<int> min, Vector128<int> max, sbyte* output, int valid)
    {
        var bytes = Vector128.Narrow(Vector128.Narrow(Four(low, p, c, zp, min, max), Four(high, p, c + 4, zp, min, max)), Vector128<short>.Zero);
        if (valid >= 8) Unsafe.WriteUnaligned(output, bytes.AsInt64().ToScalar());
        else Qs8GemmTiles.StorePartial(bytes, output, valid);
    }

    /// <summary>
    /// TFLite's RoundingDivideByPOT (half away from zero) on AdvSimd, as gemmlowp's NEON form: subtract 1 (saturating)
    /// from a negative value when there is a shift, then SRSHL, the rounding shift (half up), by
    /// <paramref name="negatedShift"/> = -exponent. Four instructions (AND, SSHR, SQADD, SRSHL) where the portable
    /// steps take seven and two more parameter loads. Exact for every int32 and exponent 0..31, INT_MIN included (the
    /// SQADD saturates there, and INT_MIN needs no rounding).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> RoundingDivideByPot(Vector128<int> x, Vector128<int> negatedShift)
    {
        var fixup = AdvSimd.ShiftRightArithmetic(x & negatedShift, 31); // -1 where x < 0 and the shift is not 0
        return AdvSimd.ShiftArithmeticRounded(AdvSimd.AddSaturate(x, fixup), negatedShift);
    }

    /// <summary><see cref="Four"/> on eight lanes with AVX2 (multipliers are never int.MinValue, so no saturation case).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> Eight(Vector256<int> acc, Qs8ChannelParams p, int c, Vector256<int> zp,
        Vector256<int> min, Vector256<int> max) => new Qs8Requantize8(p, c).Apply(acc, zp, min, max);

    /// <summary>(a * b + 2^30) >> 31 per lane, int.MinValue * int.MinValue saturating to int.MaxValue.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> SaturatingRoundingDoublingHighMul(Vector128<int> a, Vector128<int> b)
    {
        if (AdvSimd.IsSupported) return AdvSimd.MultiplyRoundedDoublingSaturateHigh(a, b);
        Vector128<int> r;
        var nudge = Vector128.Create(1L << 30);
        if (Sse41.IsSupported)
        {
            var even = Sse41.Multiply(a, b) + nudge; // lanes 0, 2 as int64
            var odd = Sse41.Multiply(Sse2.ShiftRightLogical(a.AsInt64(), 32).AsInt32(),
                Sse2.ShiftRightLogical(b.AsInt64(), 32).AsInt32()) + nudge; // lanes 1, 3
            // Bits 31..62 of each product: low dword of even >> 31, high dword of odd << 1.
            var lo = Sse2.ShiftRightLogical(even, 31).AsInt32();
            var hi = Sse2.ShiftLeftLogical(odd, 1).AsInt32();
            r = Vector128.ConditionalSelect(Vector128.Create(0, -1, 0, -1), hi, lo);
        }
        else
        {
            var (aLo, aHi) = Vector128.Widen(a);
            var (bLo, bHi) = Vector128.Widen(b);
            r = Vector128.Narrow(Vector128.ShiftRightArithmetic(aLo * bLo + nudge, 31),
                Vector128.ShiftRightArithmetic(aHi * bHi + nudge, 31));
        }
        var minValue = Vector128.Create(int.MinValue);
        var overflow = Vector128.Equals(a, minValue) & Vector128.Equals(b, minValue);
        return Vector128.ConditionalSelect(overflow, Vector128.Create(int.MaxValue), r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> ShiftRightArithmetic(Vector128<int> x, Vector128<int> shift)
    {
        if (Avx2.IsSupported) return Avx2.ShiftRightArithmeticVariable(x, shift.AsUInt32());
        if (AdvSimd.IsSupported) return AdvSimd.ShiftArithmetic(x, -shift);
        return Vector128.Create(x.GetElement(0) >> shift.GetElement(0), x.GetElement(1) >> shift.GetElement(1),
            x.GetElement(2) >> shift.GetElement(2), x.GetElement(3) >> shift.GetElement(3));
    }
}

/// <summary>
/// The rounding half of an AVX2 output step on eight channels: MultiplyByQuantizedMultiplier without zero point
/// or clamp, parameters loaded into registers once per channel block (hoisted out of the pixel loop).
/// </summary>
internal interface IQs8Rounding8<TSelf> where TSelf : struct, IQs8Rounding8<TSelf>
{
    static abstract TSelf Load(Qs8ChannelParams p, int c);
    Vector256<int> Round(Vector256<int> acc);
}

/// <summary>Bit-exact <see cref="FixedPoint.MultiplyByQuantizedMultiplier"/> for any shift and accumulator.</summary>
internal readonly unsafe struct Qs8Requantize8 : IQs8Rounding8<Qs8Requantize8>
{
    private readonly Vector256<int> _leftShift, _multiplier, _multiplierOdd, _rightShift, _mask, _halfMask;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Qs8Requantize8(Qs8ChannelParams p, int c)
    {
        int* m = p.Multiplier + c;
        _multiplier = Avx.LoadVector256(m);
        _multiplierOdd = Avx2.ShiftRightLogical(_multiplier.AsInt64(), 32).AsInt32();
        _rightShift = Avx.LoadVector256(p.RightShift + c);
        _mask = Avx.LoadVector256(p.Mask + c);
        _halfMask = Avx.LoadVector256(p.HalfMask + c);
        _leftShift = Avx.LoadVector256(p.LeftShift + c);
    }

    /// <summary>One multiplier and shift for all eight lanes: a per-tensor rescale (int8 ADD's).</summary>
    public Qs8Requantize8(int multiplier, int shift)
    {
        if (shift < FixedPoint.MinShift || shift > FixedPoint.MaxShift)
            throw new ArgumentOutOfRangeException(nameof(shift), shift, "shift must be in [-31, 30]");
        var (left, right, mask) = FixedPoint.SplitShift(shift);
        _multiplier = Vector256.Create(multiplier);
        _multiplierOdd = Avx2.ShiftRightLogical(_multiplier.AsInt64(), 32).AsInt32();
        _rightShift = Vector256.Create(right);
        _mask = Vector256.Create(mask);
        _halfMask = Vector256.Create(mask >> 1);
        _leftShift = Vector256.Create(left);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Qs8Requantize8 Load(Qs8ChannelParams p, int c) => new(p, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<int> Round(Vector256<int> acc)
    {
        var h = Qs8Rounding.DoublingHighMul(Avx2.ShiftLeftLogicalVariable(acc, _leftShift.AsUInt32()), _multiplier, _multiplierOdd);
        var shifted = Avx2.ShiftRightArithmeticVariable(h, _rightShift.AsUInt32());
        var remainder = Avx2.And(h, _mask);
        var threshold = Avx2.Subtract(_halfMask, Avx2.ShiftRightArithmetic(h, 31));
        return Avx2.Subtract(shifted, Avx2.CompareGreaterThan(remainder, threshold));
    }

    /// <summary>Bit-exact <see cref="FixedPoint.MultiplyByQuantizedMultiplier"/> + zero point + clamp on eight lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<int> Apply(Vector256<int> acc, Vector256<int> zp, Vector256<int> min, Vector256<int> max) =>
        Avx2.Min(Avx2.Max(Avx2.Add(Round(acc), zp), min), max);
}

/// <summary>
/// <see cref="Qs8Requantize8"/> with fewer steps, for kernels that proved at load that every channel shifts right
/// (<see cref="Qs8ChannelParams.AllShiftRight"/>: no left shift) and |accumulator| &lt; 2^30: then TFLite's
/// rounding divide (half away from zero) is (h + 2^(e-1) + (h &lt; 0 ? -1 : 0)) >> e without overflow.
/// </summary>
internal readonly unsafe struct Qs8RequantizeRight8 : IQs8Rounding8<Qs8RequantizeRight8>
{
    /// <summary>
    /// Ints per group of 8 entries (<see cref="Qs8ChannelParams.RightShiftGroups"/>): m, m of the odd entries in even
    /// lanes, e, 2^(e-1), e - 1, then the 64-bit offsets 2^30 + 2^(30+e) of the even and of the odd entries. Both
    /// right-shift roundings read them from memory, each operand by the instruction that uses it, so an output step
    /// holds no parameter registers.
    /// </summary>
    public const int GroupInts = 56;
    internal const int OddMultiplier = 8, Shift = 16, Half = 24, ShiftLess1 = 32, EvenOffset = 40, OddOffset = 48;
    private readonly int* _group;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Qs8RequantizeRight8(int* group) => _group = group;

    /// <summary>Entry <paramref name="c"/> (a multiple of 8) and the 7 after it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Qs8RequantizeRight8 Load(Qs8ChannelParams p, int c) => new(Group(p, c));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int* Group(Qs8ChannelParams p, int c) => p.RightShiftGroups + c / 8 * GroupInts;

    /// <summary>Lays out the groups from per-entry multipliers and right shifts (each at least 1).</summary>
    public static void Pack(ReadOnlySpan<int> multipliers, ReadOnlySpan<int> rightShifts, Span<int> groups)
    {
        var offsets = MemoryMarshal.Cast<int, long>(groups);
        for (int c = 0; c < multipliers.Length; c++)
        {
            int g = c / 8 * GroupInts, lane = c % 8, e = rightShifts[c];
            groups[g + lane] = multipliers[c];
            if (lane % 2 == 1) groups[g + OddMultiplier + lane - 1] = multipliers[c];
            groups[g + Shift + lane] = e;
            groups[g + Half + lane] = 1 << (e - 1);
            groups[g + ShiftLess1 + lane] = e - 1;
            offsets[(g + (lane % 2 == 0 ? EvenOffset : OddOffset)) / 2 + lane / 2] = (1L << 30) + (1L << (30 + e));
        }
    }

    /// <summary>
    /// Whether this rounding is exact for a kernel whose accumulators are <paramref name="foldedBias"/> (input zero
    /// point folded in) plus <paramref name="depth"/> products of int8 values: |acc| &lt;= |bias| + depth * 128 * 128.
    /// </summary>
    public static bool Applies(Qs8ChannelParams p, ReadOnlySpan<int> foldedBias, int depth)
    {
        if (!p.AllShiftRight) return false;
        foreach (int b in foldedBias)
            if (Math.Abs((long)b) + (long)depth * 128 * 128 >= 1L << 30) return false;
        return true;
    }

    /// <summary>The shortest rounding exact for a kernel with these parameters (see <see cref="Applies"/>).</summary>
    public static Qs8RoundingKind Choose(Qs8ChannelParams p, ReadOnlySpan<int> foldedBias, int depth) =>
        !Applies(p, foldedBias, depth) ? Qs8RoundingKind.General
        : p.Min >= p.ZeroPoint ? Qs8RoundingKind.RightShiftClamped : Qs8RoundingKind.RightShift;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<int> Round(Vector256<int> acc)
    {
        var h = Qs8Rounding.DoublingHighMul(acc, Avx.LoadVector256(_group), Avx.LoadVector256(_group + OddMultiplier));
        var sum = Avx2.Add(Avx2.Add(h, Avx.LoadVector256(_group + Half)), Avx2.ShiftRightArithmetic(h, 31));
        return Avx2.ShiftRightArithmeticVariable(sum, Avx.LoadVector256((uint*)(_group + Shift)));
    }
}

/// <summary>
/// <see cref="Qs8RequantizeRight8"/> for outputs clamped at or above the zero point (a fused ReLU or ReLU6): a
/// negative accumulator's result, exact or not, is at most 0 and clamps to the minimum, so TFLite's rounding is needed
/// only where it is non-negative, and there its two roundings fold into one: ((x * m + 2^30) >> 31 + 2^(e-1)) >> e =
/// (x * m + 2^30 + 2^(30+e)) >> (31 + e) (nested floors of divisions by powers of two compose; for x &lt; 0 the sum is
/// negative or below 2^(31+e), so the result is at most 0), taken as the high half of the 64-bit sum, then >> (e - 1).
/// Eight operations per 8 lanes instead of ten, and the operands stay in memory
/// (<see cref="Qs8ChannelParams.RightShiftGroups"/>, each read by the instruction that uses it), so the output step
/// holds no parameter registers (an earlier form of this fold, for every right shift, kept seven vectors of parameters
/// per 8 channels in registers and ran shallow layers 0.94-0.95x). Against the ten-operation form, one process, in
/// turn: V1 1.0-224 int8's depthwise layers 1.03-1.06x, pointwise at depth 32-128 1.03-1.05x, deeper 1.00-1.02x, the
/// whole model 1.01-1.03x; V2 1.0-224 int8 1.01x.
/// </summary>
internal readonly unsafe struct Qs8RequantizeRightClamped8 : IQs8Rounding8<Qs8RequantizeRightClamped8>
{
    private const int OddMultiplier = Qs8RequantizeRight8.OddMultiplier, ShiftLess1 = Qs8RequantizeRight8.ShiftLess1,
        EvenOffset = Qs8RequantizeRight8.EvenOffset, OddOffset = Qs8RequantizeRight8.OddOffset;
    private readonly int* _group;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Qs8RequantizeRightClamped8(int* group) => _group = group;

    /// <summary>Entry <paramref name="c"/> (a multiple of 8) and the 7 after it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Qs8RequantizeRightClamped8 Load(Qs8ChannelParams p, int c) => new(Qs8RequantizeRight8.Group(p, c));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<int> Round(Vector256<int> acc)
    {
        // |x| < 2^30 and m < 2^31: the sums stay inside int64, their high halves inside int32.
        var even = Avx2.Add(Avx2.Multiply(acc, Avx.LoadVector256(_group)), Avx.LoadVector256((long*)(_group + EvenOffset)));
        var odd = Avx2.Add(Avx2.Multiply(Avx2.ShiftRightLogical(acc.AsInt64(), 32).AsInt32(), Avx.LoadVector256(_group + OddMultiplier)),
            Avx.LoadVector256((long*)(_group + OddOffset)));
        var high = Avx2.Blend(Avx2.ShiftRightLogical(even, 32).AsInt32(), odd.AsInt32(), 0b1010_1010);
        return Avx2.ShiftRightArithmeticVariable(high, Avx.LoadVector256((uint*)(_group + ShiftLess1)));
    }
}

/// <summary>Which rounding sequence an AVX2 int8 kernel's output step runs, chosen once at load.</summary>
internal enum Qs8RoundingKind
{
    /// <summary><see cref="Qs8Requantize8"/>: any shift and accumulator.</summary>
    General,
    /// <summary><see cref="Qs8RequantizeRight8"/>: right shifts only, |accumulator| &lt; 2^30.</summary>
    RightShift,
    /// <summary><see cref="Qs8RequantizeRightClamped8"/>: as RightShift, outputs clamped at or above the zero point.</summary>
    RightShiftClamped,
}

internal static class Qs8Rounding
{
    /// <summary>
    /// (x * m + 2^30) >> 31 on eight lanes (TFLite SaturatingRoundingDoublingHighMul; multipliers are never
    /// int.MinValue, so no saturation case). <paramref name="multiplierOdd"/> is m's odd lanes moved to even.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DoublingHighMul(Vector256<int> x, Vector256<int> multiplier, Vector256<int> multiplierOdd)
    {
        var nudge = Vector256.Create(1L << 30);
        var even = Avx2.Add(Avx2.Multiply(x, multiplier), nudge); // lanes 0, 2, 4, 6 as int64
        var odd = Avx2.Add(Avx2.Multiply(Avx2.ShiftRightLogical(x.AsInt64(), 32).AsInt32(), multiplierOdd), nudge);
        // Bits 31..62 of each product: low dword of even >> 31, high dword of odd << 1.
        return Avx2.Blend(Avx2.ShiftRightLogical(even, 31).AsInt32(), Avx2.ShiftLeftLogical(odd, 1).AsInt32(), 0b1010_1010);
    }

    /// <summary>
    /// One pixel's 16 channels from accumulators whose lanes hold channels [0-3, 8-11] (<paramref name="accLow"/>)
    /// and [4-7, 12-15] (<paramref name="accHigh"/>), so that VPACKSSDW restores their order: rounded, zero point
    /// added and clamped after narrowing, as <see cref="TwoPixels16"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<sbyte> OnePixel16<TRound>(in TRound low, in TRound high, Vector256<int> accLow, Vector256<int> accHigh,
        Vector256<short> zp, Vector128<sbyte> min, Vector128<sbyte> max) where TRound : struct, IQs8Rounding8<TRound>
    {
        var words = Avx2.AddSaturate(Avx2.PackSignedSaturate(low.Round(accLow), high.Round(accHigh)), zp);
        return Sse41.Min(Sse41.Max(Sse2.PackSignedSaturate(words.GetLower(), words.GetUpper()), min), max);
    }

    /// <summary>
    /// Two pixels' 16 channels (int32: a's channels 0-7 in <paramref name="a0"/>, 8-15 in <paramref name="a1"/>, b's
    /// likewise) rounded, zero point added and clamped, as 32 bytes: a's 16 then b's. The zero point and clamp act
    /// after narrowing (int16 saturating add, int8 max/min), exact because the clamp range and zero point lie inside
    /// int8: a value that saturates in int16 is far outside the clamp range either way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> TwoPixels16<TRound>(in TRound low, in TRound high, Vector256<int> a0, Vector256<int> a1,
        Vector256<int> b0, Vector256<int> b1, Vector256<short> zp, Vector256<sbyte> min, Vector256<sbyte> max)
        where TRound : struct, IQs8Rounding8<TRound>
    {
        // int16 lanes hold channels [0-3, 8-11 | 4-7, 12-15]; bytes [a0-3, a8-11, b0-3, b8-11 | a4-7, a12-15, b4-7, b12-15].
        var wa = Avx2.AddSaturate(Avx2.PackSignedSaturate(low.Round(a0), high.Round(a1)), zp);
        var wb = Avx2.AddSaturate(Avx2.PackSignedSaturate(low.Round(b0), high.Round(b1)), zp);
        var bytes = Avx2.Min(Avx2.Max(Avx2.PackSignedSaturate(wa, wb), min), max);
        return Avx2.PermuteVar8x32(bytes.AsInt32(), Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7)).AsSByte();
    }
}
