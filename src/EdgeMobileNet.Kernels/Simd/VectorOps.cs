using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeMobileNet.Kernels.Simd;

/// <summary>
/// The fp32 vector steps one ISA contributes to the generic kernels (TensorPrimitives style): each kernel
/// algorithm is written once over <c>TOps : struct, IF32Ops&lt;TV&gt;</c> and the JIT/AOT compiler
/// specializes it per ISA, inlining these steps.
/// </summary>
public unsafe interface IF32Ops<TV> where TV : struct
{
    /// <summary>The ISA suffix of kernel names (Vector128, AdvSimd, Avx2, Avx512).</summary>
    static abstract string Isa { get; }
    static abstract int Count { get; }
    static abstract TV Broadcast(float value);
    static abstract TV Load(float* p);
    static abstract void Store(float* p, TV v);
    /// <summary>
    /// acc + a * b: fused (one rounding) where the ISA has FMA (AVX2+FMA, AVX-512, AdvSimd), so those kernels agree
    /// with the reference within rounding (KernelConformance.F32Tolerance) and with each other bit for bit when
    /// they sum in the same order; the portable Vector128 step multiplies then adds, as the reference does.
    /// </summary>
    static abstract TV MultiplyAdd(TV acc, TV a, TV b);
    static abstract TV Clamp(TV v, TV min, TV max);

    /// <summary>
    /// Whether <see cref="MultiplyAddLane"/> is one instruction (AdvSimd FMLA by element, <see cref="Count"/> 4): the
    /// GEMM then loads four inputs of a row as one vector and multiplies by its lanes, where otherwise each input is
    /// broadcast on its own (on ARM a load and a DUP per input and row).
    /// </summary>
    static abstract bool MultipliesByLane { get; }

    /// <summary>
    /// acc + a * b[lane], fused as <see cref="MultiplyAdd"/>. Abstract, with constant <see cref="MultipliesByLane"/>
    /// in every struct: as default interface members NativeAOT did not fold them for x64, compiled the by-lane path
    /// too and kept the fp32 tile's accumulators in memory (V1 1.0-224 fp32 20 -> 71 ms).
    /// </summary>
    static abstract TV MultiplyAddLane(TV acc, TV a, TV b, [ConstantExpected(Max = 3)] byte lane);
}

/// <summary>Portable Vector128: runs on every .NET target (x64 SSE, ARM AdvSimd, software fallback).</summary>
public readonly unsafe struct F32Vector128 : IF32Ops<Vector128<float>>
{
    public static string Isa => "Vector128";
    public static int Count => Vector128<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Broadcast(float value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(float* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector128<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MultiplyAdd(Vector128<float> acc, Vector128<float> a, Vector128<float> b) => acc + a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Clamp(Vector128<float> v, Vector128<float> min, Vector128<float> max) => Vector128.Min(Vector128.Max(v, min), max);
    public static bool MultipliesByLane => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAddLane(Vector128<float> acc, Vector128<float> a, Vector128<float> b, [ConstantExpected(Max = 3)] byte lane) =>
        MultiplyAdd(acc, a, Broadcast(b.GetElement(lane)));
}

/// <summary>ARM64 AdvSimd: FMLA.</summary>
public readonly unsafe struct F32AdvSimd : IF32Ops<Vector128<float>>
{
    public static string Isa => "AdvSimd";
    public static int Count => Vector128<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Broadcast(float value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(float* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector128<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MultiplyAdd(Vector128<float> acc, Vector128<float> a, Vector128<float> b) => AdvSimd.FusedMultiplyAdd(acc, a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Clamp(Vector128<float> v, Vector128<float> min, Vector128<float> max) => AdvSimd.Min(AdvSimd.Max(v, min), max);
    public static bool MultipliesByLane => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAddLane(Vector128<float> acc, Vector128<float> a, Vector128<float> b, [ConstantExpected(Max = 3)] byte lane) =>
        AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(acc, a, b, lane);
}

/// <summary>x64 AVX2+FMA: 8 floats, VFMADD231PS.</summary>
public readonly unsafe struct F32Avx2 : IF32Ops<Vector256<float>>
{
    public static string Isa => "Avx2";
    public static int Count => Vector256<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* p) => Avx.LoadVector256(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector256<float> v) => Avx.Store(p, v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MultiplyAdd(Vector256<float> acc, Vector256<float> a, Vector256<float> b) => Fma.MultiplyAdd(a, b, acc);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Clamp(Vector256<float> v, Vector256<float> min, Vector256<float> max) => Avx.Min(Avx.Max(v, min), max);
    public static bool MultipliesByLane => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAddLane(Vector256<float> acc, Vector256<float> a, Vector256<float> b, [ConstantExpected(Max = 3)] byte lane) =>
        MultiplyAdd(acc, a, Broadcast(b.GetElement(lane)));
}

/// <summary>x64 AVX-512F: 16 floats.</summary>
public readonly unsafe struct F32Avx512 : IF32Ops<Vector512<float>>
{
    public static string Isa => "Avx512";
    public static int Count => Vector512<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector512<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MultiplyAdd(Vector512<float> acc, Vector512<float> a, Vector512<float> b) => Avx512F.FusedMultiplyAdd(a, b, acc);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Clamp(Vector512<float> v, Vector512<float> min, Vector512<float> max) => Avx512F.Min(Avx512F.Max(v, min), max);
    public static bool MultipliesByLane => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAddLane(Vector512<float> acc, Vector512<float> a, Vector512<float> b, [ConstantExpected(Max = 3)] byte lane) =>
        MultiplyAdd(acc, a, Broadcast(b.GetElement(lane)));
}

/// <summary>
/// The int8 dot-product step of one ISA. Weights and inputs are grouped along the reduction axis in
/// <see cref="KGroup"/> values per 32-bit word: "c2" = two sign-extended int16 (x64 PMADDWD, ARM SMULL+ADDP),
/// "c4" = four int8 (ARM SDOT). <see cref="Dot"/> adds, per int32 lane (one output channel), the dot product of
/// the lane's weight word with the broadcast input word. Accumulation is exact int32 (wrapping), so every
/// implementation gives identical accumulators.
/// </summary>
public unsafe interface IQs8Dot<TSelf, TV> where TSelf : IQs8Dot<TSelf, TV> where TV : struct
{
    static abstract string Isa { get; }
    static abstract int Count { get; }
    static abstract int KGroup { get; }
    static abstract TV Load(int* p);
    static abstract void Store(int* p, TV v);
    static abstract TV Broadcast(int word);
    static abstract TV Dot(TV acc, TV inputWord, TV weightWords);

    /// <summary>
    /// Two <see cref="Dot"/> steps into one accumulator, acc + a . wa + b . wb: where products widen before they are
    /// summed (AdvSimd SMULL, then SMLAL, the widening multiply-accumulate), the second step's products add to the
    /// first's before the one pairwise reduction.
    /// </summary>
    static abstract TV Dot2(TV acc, TV inputWordA, TV weightWordsA, TV inputWordB, TV weightWordsB);

    /// <summary>
    /// Whether <see cref="DotLane"/> is one instruction (SDOT by element, <see cref="Count"/> 4): the GEMM then loads
    /// four groups of a row as one vector (<see cref="LoadGroups"/>) and takes their words by lane, where otherwise
    /// each word is broadcast on its own.
    /// </summary>
    static abstract bool DotsByLane { get; }

    /// <summary><see cref="Dot"/> with the input word taken from lane <paramref name="lane"/> of <paramref name="inputWords"/> (abstract, as <see cref="IF32Ops{TV}.MultiplyAddLane"/>).</summary>
    static abstract TV DotLane(TV acc, TV inputWords, [ConstantExpected(Max = 3)] byte lane, TV weightWords);

    /// <summary><see cref="Count"/> consecutive groups at p as one vector of their words (<see cref="Qs8Words.Word"/> each).</summary>
    static abstract TV LoadGroups(sbyte* p);

    /// <summary>True where the output step may requantize eight channels at a time with AVX2 (abstract, as the by-lane members).</summary>
    static abstract bool WideRequantize { get; }

    /// <summary>
    /// The broadcast words of two consecutive groups at p (2 * KGroup values). Abstract, not a default body: NativeAOT
    /// compiled a default interface body as a call, and the ARM tiles called it for every row and pair of groups with
    /// the two vectors returned through the stack.
    /// </summary>
    static abstract void BroadcastPair(sbyte* p, out TV first, out TV second);
}

/// <summary>Word packing shared by all int8 dot steps.</summary>
public static unsafe class Qs8Words
{
    /// <summary>The word for <paramref name="kGroup"/> int8 values starting at p (n of them valid, the rest zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Word(sbyte* p, int kGroup) => kGroup == 2
        ? (ushort)(short)p[0] | (p[1] << 16)
        : Unsafe.ReadUnaligned<int>(p);

    /// <summary>Two c2 words (four int8 values at p sign-extended into int16 pairs) in lanes 0 and 1: one load and PMOVSXBW.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> PairWordsSse41(sbyte* p) =>
        Sse41.ConvertToVector128Int16(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<int>(p)).AsSByte()).AsInt32();

    /// <summary>The word for the first n (below kGroup) values at p, zeros after them; reads only those n bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int PartialWord(sbyte* p, int n, int kGroup)
    {
        if (kGroup == 2) return (ushort)(short)p[0]; // n is 1
        int word = (byte)p[0];
        if (n > 1) word |= (byte)p[1] << 8;
        if (n > 2) word |= (byte)p[2] << 16;
        return word;
    }
}

/// <summary>Portable Vector128 c2: PMADDWD on x64, SMULL/SMLAL+ADDP on ARM64, shifts and multiplies elsewhere.</summary>
public readonly unsafe struct Qs8DotVector128 : IQs8Dot<Qs8DotVector128, Vector128<int>>
{
    public static bool WideRequantize => false;
    public static string Isa => "Vector128";
    public static int Count => 4;
    public static int KGroup => 2;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<int> Load(int* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(int* p, Vector128<int> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<int> Broadcast(int word) => Vector128.Create(word);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Dot(Vector128<int> acc, Vector128<int> inputWord, Vector128<int> weightWords)
    {
        if (Sse2.IsSupported) return Sse2.Add(acc, Sse2.MultiplyAddAdjacent(inputWord.AsInt16(), weightWords.AsInt16()));
        if (AdvSimd.Arm64.IsSupported) return Qs8DotAdvSimd.Dot(acc, inputWord, weightWords);
        var aLo = Vector128.ShiftRightArithmetic(Vector128.ShiftLeft(inputWord, 16), 16);
        var aHi = Vector128.ShiftRightArithmetic(inputWord, 16);
        var wLo = Vector128.ShiftRightArithmetic(Vector128.ShiftLeft(weightWords, 16), 16);
        var wHi = Vector128.ShiftRightArithmetic(weightWords, 16);
        return acc + aLo * wLo + aHi * wHi;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Dot2(Vector128<int> acc, Vector128<int> inputWordA, Vector128<int> weightWordsA,
        Vector128<int> inputWordB, Vector128<int> weightWordsB) =>
        AdvSimd.Arm64.IsSupported ? Qs8DotAdvSimd.Dot2(acc, inputWordA, weightWordsA, inputWordB, weightWordsB)
        : Dot(Dot(acc, inputWordA, weightWordsA), inputWordB, weightWordsB);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void BroadcastPair(sbyte* p, out Vector128<int> first, out Vector128<int> second)
    {
        if (AdvSimd.Arm64.IsSupported)
        {
            Qs8DotAdvSimd.BroadcastPair(p, out first, out second);
            return;
        }
        first = Vector128.Create(Qs8Words.Word(p, KGroup));
        second = Vector128.Create(Qs8Words.Word(p + KGroup, KGroup));
    }
    public static bool DotsByLane => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> DotLane(Vector128<int> acc, Vector128<int> inputWords, [ConstantExpected(Max = 3)] byte lane, Vector128<int> weightWords) =>
        Dot(acc, Broadcast(inputWords.GetElement(lane)), weightWords);
    /// <summary>Four pairs (8 bytes) sign-extended into int16 pair words.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> LoadGroups(sbyte* p) => Vector128.WidenLower(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(p)).AsSByte()).AsInt32();
}

/// <summary>ARM64 AdvSimd c2: SMULL + SMULL2 (int16 x int16 widening), SMLAL/SMLAL2 for a second step, and ADDP.</summary>
public readonly unsafe struct Qs8DotAdvSimd : IQs8Dot<Qs8DotAdvSimd, Vector128<int>>
{
    public static bool WideRequantize => false;
    public static string Isa => "AdvSimd";
    public static int Count => 4;
    public static int KGroup => 2;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<int> Load(int* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(int* p, Vector128<int> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<int> Broadcast(int word) => Vector128.Create(word);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Dot(Vector128<int> acc, Vector128<int> inputWord, Vector128<int> weightWords)
    {
        var a = inputWord.AsInt16();
        var w = weightWords.AsInt16();
        var lo = AdvSimd.MultiplyWideningLower(a.GetLower(), w.GetLower()); // channels 0,1 as (k0, k1) pairs
        var hi = AdvSimd.MultiplyWideningUpper(a, w);                      // channels 2,3
        return AdvSimd.Add(acc, AdvSimd.Arm64.AddPairwise(lo, hi));
    }

    /// <summary>SMULL, SMLAL, SMULL2, SMLAL2, one ADDP and ADD: six instructions where two <see cref="Dot"/> take eight.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Dot2(Vector128<int> acc, Vector128<int> inputWordA, Vector128<int> weightWordsA,
        Vector128<int> inputWordB, Vector128<int> weightWordsB)
    {
        Vector128<short> a = inputWordA.AsInt16(), wa = weightWordsA.AsInt16(), b = inputWordB.AsInt16(), wb = weightWordsB.AsInt16();
        var lo = AdvSimd.MultiplyWideningLowerAndAdd(AdvSimd.MultiplyWideningLower(a.GetLower(), wa.GetLower()), b.GetLower(), wb.GetLower());
        var hi = AdvSimd.MultiplyWideningUpperAndAdd(AdvSimd.MultiplyWideningUpper(a, wa), b, wb);
        return AdvSimd.Add(acc, AdvSimd.Arm64.AddPairwise(lo, hi));
    }

    /// <summary>One 4-byte load, SXTL, two DUP (by element).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void BroadcastPair(sbyte* p, out Vector128<int> first, out Vector128<int> second)
    {
        var words = AdvSimd.SignExtendWideningLower(Vector64.CreateScalarUnsafe(Unsafe.ReadUnaligned<int>(p)).AsSByte()).AsInt32();
        first = AdvSimd.DuplicateSelectedScalarToVector128(words, 0);
        second = AdvSimd.DuplicateSelectedScalarToVector128(words, 1);
    }
    public static bool DotsByLane => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> DotLane(Vector128<int> acc, Vector128<int> inputWords, [ConstantExpected(Max = 3)] byte lane, Vector128<int> weightWords) =>
        Dot(acc, Broadcast(inputWords.GetElement(lane)), weightWords);
    /// <summary>Four pairs (8 bytes) sign-extended into int16 pair words.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> LoadGroups(sbyte* p) => Vector128.WidenLower(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(p)).AsSByte()).AsInt32();
}

/// <summary>ARM64 dot product (ARMv8.2 DotProd, Cortex-A76+): SDOT, four int8 products per lane.</summary>
public readonly unsafe struct Qs8DotDp : IQs8Dot<Qs8DotDp, Vector128<int>>
{
    public static bool WideRequantize => false;
    public static string Isa => "Dp";
    public static int Count => 4;
    public static int KGroup => 4;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<int> Load(int* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(int* p, Vector128<int> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<int> Broadcast(int word) => Vector128.Create(word);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Dot(Vector128<int> acc, Vector128<int> inputWord, Vector128<int> weightWords) =>
        Dp.DotProduct(acc, inputWord.AsSByte(), weightWords.AsSByte());
    /// <summary>Two SDOT (products already sum inside the instruction).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Dot2(Vector128<int> acc, Vector128<int> inputWordA, Vector128<int> weightWordsA,
        Vector128<int> inputWordB, Vector128<int> weightWordsB) => Dot(Dot(acc, inputWordA, weightWordsA), inputWordB, weightWordsB);
    public static bool DotsByLane => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> DotLane(Vector128<int> acc, Vector128<int> inputWords, [ConstantExpected(Max = 3)] byte lane, Vector128<int> weightWords) =>
        Dp.DotProductBySelectedQuadruplet(acc, weightWords.AsSByte(), inputWords.AsSByte(), lane);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<int> LoadGroups(sbyte* p) => Vector128.Load(p).AsInt32();

    /// <summary>One 8-byte load, two DUP (by element); unused by <see cref="Qs8Igemm{TOps, TV}"/>, whose by-lane loop replaces its pair loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void BroadcastPair(sbyte* p, out Vector128<int> first, out Vector128<int> second)
    {
        var words = Vector64.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(p)).AsInt32();
        first = AdvSimd.DuplicateSelectedScalarToVector128(words, 0);
        second = AdvSimd.DuplicateSelectedScalarToVector128(words, 1);
    }
}

/// <summary>x64 AVX2 c2: VPMADDWD on 8 channels.</summary>
public readonly unsafe struct Qs8DotAvx2 : IQs8Dot<Qs8DotAvx2, Vector256<int>>
{
    public static bool WideRequantize => true;
    public static string Isa => "Avx2";
    public static int Count => 8;
    public static int KGroup => 2;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> Load(int* p) => Avx.LoadVector256(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(int* p, Vector256<int> v) => Avx.Store(p, v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> Broadcast(int word) => Vector256.Create(word);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<int> acc, Vector256<int> inputWord, Vector256<int> weightWords) =>
        Avx2.Add(acc, Avx2.MultiplyAddAdjacent(inputWord.AsInt16(), weightWords.AsInt16()));

    /// <summary>Two VPMADDWD + VPADDD (products already pair-sum into int32 inside the instruction).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot2(Vector256<int> acc, Vector256<int> inputWordA, Vector256<int> weightWordsA,
        Vector256<int> inputWordB, Vector256<int> weightWordsB) => Dot(Dot(acc, inputWordA, weightWordsA), inputWordB, weightWordsB);

    /// <summary>One 4-byte load, VPMOVSXBW, two VPBROADCASTD (instead of building each word in scalar registers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void BroadcastPair(sbyte* p, out Vector256<int> first, out Vector256<int> second)
    {
        var words = Qs8Words.PairWordsSse41(p);
        first = Avx2.BroadcastScalarToVector256(words);
        second = Avx2.BroadcastScalarToVector256(Sse2.Shuffle(words, 0b01_01_01_01));
    }
    public static bool DotsByLane => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotLane(Vector256<int> acc, Vector256<int> inputWords, [ConstantExpected(Max = 3)] byte lane, Vector256<int> weightWords) =>
        Dot(acc, Broadcast(inputWords.GetElement(lane)), weightWords);
    /// <summary>Eight pairs (16 bytes) sign-extended into int16 pair words.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<int> LoadGroups(sbyte* p) => Avx2.ConvertToVector256Int16(p).AsInt32();
}

/// <summary>x64 AVX-512BW c2: VPMADDWD on 16 channels.</summary>
public readonly unsafe struct Qs8DotAvx512 : IQs8Dot<Qs8DotAvx512, Vector512<int>>
{
    public static bool WideRequantize => true;
    public static string Isa => "Avx512";
    public static int Count => 16;
    public static int KGroup => 2;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> Load(int* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(int* p, Vector512<int> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> Broadcast(int word) => Vector512.Create(word);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Dot(Vector512<int> acc, Vector512<int> inputWord, Vector512<int> weightWords) =>
        Avx512F.Add(acc, Avx512BW.MultiplyAddAdjacent(inputWord.AsInt16(), weightWords.AsInt16()));

    /// <summary>Two VPMADDWD + VPADDD.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Dot2(Vector512<int> acc, Vector512<int> inputWordA, Vector512<int> weightWordsA,
        Vector512<int> inputWordB, Vector512<int> weightWordsB) => Dot(Dot(acc, inputWordA, weightWordsA), inputWordB, weightWordsB);

    /// <summary>One 4-byte load, VPMOVSXBW, two broadcasts (as <see cref="Qs8DotAvx2.BroadcastPair"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void BroadcastPair(sbyte* p, out Vector512<int> first, out Vector512<int> second)
    {
        var words = Qs8Words.PairWordsSse41(p);
        first = Avx512F.BroadcastScalarToVector512(words);
        second = Avx512F.BroadcastScalarToVector512(Sse2.Shuffle(words, 0b01_01_01_01));
    }
    public static bool DotsByLane => false;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> DotLane(Vector512<int> acc, Vector512<int> inputWords, [ConstantExpected(Max = 3)] byte lane, Vector512<int> weightWords) =>
        Dot(acc, Broadcast(inputWords.GetElement(lane)), weightWords);
    /// <summary>Sixteen pairs (32 bytes) sign-extended into int16 pair words.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<int> LoadGroups(sbyte* p) => Avx512BW.ConvertToVector512Int16(Vector256.Load(p)).AsInt32();
}

/// <summary>Portable Vector128 depthwise step: 8 channels, PMOVSXBW/SXTL + PMULLW/MUL + widening adds.</summary>
public readonly unsafe struct Qs8DwVector128 : IQs8DwOps<Vector128<int>, Vector128<short>>
{
    public static bool WideRequantize => false;
    public static string Isa => "Vector128";
    public static int Channels => 8;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<int> Load(int* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(int* p, Vector128<int> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<short> Multiply(sbyte* input, short* weights) =>
        Vector128.WidenLower(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(input)).AsSByte()) * Vector128.Load(weights);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<int> AddLower(Vector128<int> acc, Vector128<short> product) => acc + Vector128.WidenLower(product);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<int> AddUpper(Vector128<int> acc, Vector128<short> product) => acc + Vector128.WidenUpper(product);
}

/// <summary>ARM64 AdvSimd depthwise step: 8 channels, SXTL + MUL, then SADDW/SADDW2 (widening adds).</summary>
public readonly unsafe struct Qs8DwAdvSimd : IQs8DwOps<Vector128<int>, Vector128<short>>
{
    public static bool WideRequantize => false;
    public static string Isa => "AdvSimd";
    public static int Channels => 8;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<int> Load(int* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(int* p, Vector128<int> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<short> Multiply(sbyte* input, short* weights) =>
        AdvSimd.Multiply(AdvSimd.SignExtendWideningLower(Vector64.Load(input)), Vector128.Load(weights));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<int> AddLower(Vector128<int> acc, Vector128<short> product) => AdvSimd.AddWideningLower(acc, product.GetLower());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<int> AddUpper(Vector128<int> acc, Vector128<short> product) => AdvSimd.AddWideningUpper(acc, product);
}
