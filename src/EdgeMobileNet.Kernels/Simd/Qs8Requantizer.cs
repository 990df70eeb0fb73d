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
    private readonly int[] _data;

    public Qs8ChannelParams(Qs8OutputParams p, int channels, int paddedChannels)
    {
        paddedChannels = Math.Max((paddedChannels + 3) & ~3, 4);
        Padded = paddedChannels;
        _data = GC.AllocateArray<int>(paddedChannels * 5, pinned: true);
        for (int c = 0; c < paddedChannels; c++)
        {
            int i = p.IsPerChannel ? Math.Min(c, channels - 1) : 0;
            int shift = p.Shifts[i];
            if (shift < FixedPoint.MinShift || shift > FixedPoint.MaxShift)
                throw new ArgumentException($"shift {shift} is not in [-31, 30]", nameof(p));
            int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
            int mask = (int)((1L << right) - 1);
            _data[c] = p.Multipliers[i];
            _data[paddedChannels + c] = 1 << left;
            _data[2 * paddedChannels + c] = right;
            _data[3 * paddedChannels + c] = mask;
            _data[4 * paddedChannels + c] = mask >> 1;
        }
        if (p.OutputMin < sbyte.MinValue || p.OutputMax > sbyte.MaxValue || p.OutputMin > p.OutputMax)
            throw new ArgumentException($"output clamp [{p.OutputMin}, {p.OutputMax}] is not inside int8", nameof(p));
        ZeroPoint = p.OutputZeroPoint;
        Min = p.OutputMin;
        Max = p.OutputMax;
    }

    public int Padded { get; }
    public int ZeroPoint { get; }
    public int Min { get; }
    public int Max { get; }

    public int* Multiplier => (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_data));
    public int* LeftMultiplier => Multiplier + Padded;
    public int* RightShift => Multiplier + 2 * Padded;
    public int* Mask => Multiplier + 3 * Padded;
    public int* HalfMask => Multiplier + 4 * Padded;
}

/// <summary>
/// Vectorized, bit-exact <see cref="FixedPoint.MultiplyByQuantizedMultiplier"/> + zero point + clamp on four
/// int32 accumulators of consecutive output channels.
/// </summary>
public static unsafe class Qs8Requantizer
{
    /// <summary>Requantizes acc[0..count) (channels c0..c0+count) into out[0..count).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Row(int* acc, sbyte* output, int count, Qs8ChannelParams p, int c0)
    {
        var zp = Vector128.Create(p.ZeroPoint);
        var min = Vector128.Create(p.Min);
        var max = Vector128.Create(p.Max);
        int i = 0;
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
        var shifted = ShiftRightArithmetic(h, Vector128.Load(p.RightShift + c));
        var remainder = h & Vector128.Load(p.Mask + c);
        var threshold = Vector128.Load(p.HalfMask + c) - Vector128.ShiftRightArithmetic(h, 31);
        var r = shifted - Vector128.GreaterThan(remainder, threshold) + zp;
        return Vector128.Min(Vector128.Max(r, min), max);
    }

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
