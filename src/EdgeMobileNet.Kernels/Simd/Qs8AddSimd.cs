using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using EdgeMobileNet.Kernels.Quantization;
using EdgeMobileNet.Kernels.Reference;

namespace EdgeMobileNet.Kernels.Simd;

/// <summary>
/// <see cref="FixedPoint.MultiplyByQuantizedMultiplier"/> with one multiplier and shift for every lane (a
/// per-tensor rescale), on four int32 lanes: the same steps as <see cref="Qs8Requantizer.Four"/>.
/// </summary>
public readonly struct Qs8TensorMultiplier
{
    private readonly Vector128<int> _multiplier, _mask, _halfMask, _negatedRight;
    private readonly int _left, _right;

    public Qs8TensorMultiplier(int multiplier, int shift)
    {
        if (shift < FixedPoint.MinShift || shift > FixedPoint.MaxShift)
            throw new ArgumentOutOfRangeException(nameof(shift), shift, "shift must be in [-31, 30]");
        (_left, _right, int mask) = FixedPoint.SplitShift(shift);
        _multiplier = Vector128.Create(multiplier);
        _mask = Vector128.Create(mask);
        _halfMask = Vector128.Create(mask >> 1);
        _negatedRight = Vector128.Create(-_right);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<int> Apply(Vector128<int> x)
    {
        var h = Qs8Requantizer.SaturatingRoundingDoublingHighMul(Vector128.ShiftLeft(x, _left), _multiplier);
        if (AdvSimd.IsSupported) return Qs8Requantizer.RoundingDivideByPot(h, _negatedRight);
        var remainder = h & _mask;
        var threshold = _halfMask - Vector128.ShiftRightArithmetic(h, 31);
        return Vector128.ShiftRightArithmetic(h, _right) - Vector128.GreaterThan(remainder, threshold);
    }
}

/// <summary>
/// TFLite int8 ADD (same shapes), bit-exact with <see cref="Qs8Reference.Add"/>, eight elements per step with
/// Vector128 (SSE on x64, AdvSimd on ARM; SQRDMULH there): both inputs minus their zero points, shifted left,
/// rescaled to the common scale, summed, rescaled to the output and clamped. The last elements (fewer than 8)
/// go through the reference.
/// </summary>
public static class Qs8AddSimd
{
    public static void Add(in Qs8AddParams p, ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b, Span<sbyte> output)
    {
        Check(p, a, b, output);
        var scaleA = new Qs8TensorMultiplier(p.InputAMultiplier, p.InputAShift);
        var scaleB = new Qs8TensorMultiplier(p.InputBMultiplier, p.InputBShift);
        var scaleOut = new Qs8TensorMultiplier(p.OutputMultiplier, p.OutputShift);
        var zpA = Vector128.Create((short)p.InputAZeroPoint);
        var zpB = Vector128.Create((short)p.InputBZeroPoint);
        var zpOut = Vector128.Create(p.OutputZeroPoint);
        var min = Vector128.Create(p.OutputMin);
        var max = Vector128.Create(p.OutputMax);
        int left = p.LeftShift, n = a.Length, i = 0;
        ref sbyte ra = ref MemoryMarshal.GetReference(a), rb = ref MemoryMarshal.GetReference(b), ro = ref MemoryMarshal.GetReference(output);
        for (; i + 8 <= n; i += 8)
        {
            var xa = Vector128.WidenLower(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref ra, i)))).AsSByte()) - zpA;
            var xb = Vector128.WidenLower(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref rb, i)))).AsSByte()) - zpB;
            var (aLo, aHi) = Vector128.Widen(xa);
            var (bLo, bHi) = Vector128.Widen(xb);
            var lo = Sum(aLo, bLo, left, scaleA, scaleB, scaleOut, zpOut, min, max);
            var hi = Sum(aHi, bHi, left, scaleA, scaleB, scaleOut, zpOut, min, max);
            var bytes = Vector128.Narrow(Vector128.Narrow(lo, hi), Vector128<short>.Zero); // values are inside int8 already
            Unsafe.WriteUnaligned(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref ro, i)), bytes.AsInt64().ToScalar());
        }
        if (i < n) Qs8Reference.Add(p, a[i..], b[i..], output[i..]);
    }

    /// <summary>
    /// <see cref="Add"/> with AVX2, eight elements per step in 256-bit int32 lanes: below AVX2, x64 has no 32-bit
    /// multiply-high, and the Vector128 step spent about 17 operations per element on its three rescales (V2 1.0-224
    /// int8's ten adds took 0.66 ms at 1 thread against fp32's 0.06). The rounding is <see cref="Qs8Requantize8"/>'s,
    /// exact for any shift; a multiplier of int.MinValue (never produced by QuantizeMultiplier, but a model file
    /// could hold one) needs the saturating case and goes through <see cref="Add"/>.
    /// </summary>
    public static unsafe void AddAvx2(in Qs8AddParams p, ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b, Span<sbyte> output)
    {
        if (!Avx2.IsSupported || p.InputAMultiplier == int.MinValue || p.InputBMultiplier == int.MinValue
            || p.OutputMultiplier == int.MinValue)
        {
            Add(p, a, b, output);
            return;
        }
        Check(p, a, b, output);
        var scaleA = new Qs8Requantize8(p.InputAMultiplier, p.InputAShift);
        var scaleB = new Qs8Requantize8(p.InputBMultiplier, p.InputBShift);
        var scaleOut = new Qs8Requantize8(p.OutputMultiplier, p.OutputShift);
        var zpA = Vector256.Create(p.InputAZeroPoint);
        var zpB = Vector256.Create(p.InputBZeroPoint);
        var zpOut = Vector256.Create(p.OutputZeroPoint);
        var min = Vector256.Create(p.OutputMin);
        var max = Vector256.Create(p.OutputMax);
        var left = Vector256.Create((uint)p.LeftShift);
        int n = a.Length, i = 0;
        fixed (sbyte* pa = a)
        fixed (sbyte* pb = b)
        fixed (sbyte* po = output)
        {
            for (; i + 8 <= n; i += 8)
            {
                var xa = Avx2.ShiftLeftLogicalVariable(Avx2.Subtract(Avx2.ConvertToVector256Int32(pa + i), zpA), left);
                var xb = Avx2.ShiftLeftLogicalVariable(Avx2.Subtract(Avx2.ConvertToVector256Int32(pb + i), zpB), left);
                var r = scaleOut.Apply(Avx2.Add(scaleA.Round(xa), scaleB.Round(xb)), zpOut, min, max);
                var words = Sse2.PackSignedSaturate(r.GetLower(), r.GetUpper()); // values are inside int8 already
                Unsafe.WriteUnaligned(po + i, Sse2.PackSignedSaturate(words, words).AsInt64().ToScalar());
            }
        }
        if (i < n) Qs8Reference.Add(p, a[i..], b[i..], output[i..]);
    }

    private static void Check(in Qs8AddParams p, ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b, Span<sbyte> output)
    {
        if (b.Length != a.Length || output.Length != a.Length)
            throw new ArgumentException($"inputs and output have {a.Length}, {b.Length} and {output.Length} elements");
        if ((uint)p.LeftShift > 30) throw new ArgumentException($"left shift {p.LeftShift} is not in [0, 30]", nameof(p));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Sum(Vector128<int> a, Vector128<int> b, int left, in Qs8TensorMultiplier scaleA,
        in Qs8TensorMultiplier scaleB, in Qs8TensorMultiplier scaleOut, Vector128<int> zp, Vector128<int> min, Vector128<int> max)
    {
        var sum = scaleA.Apply(Vector128.ShiftLeft(a, left)) + scaleB.Apply(Vector128.ShiftLeft(b, left));
        return Vector128.Min(Vector128.Max(scaleOut.Apply(sum) + zp, min), max);
    }
}
