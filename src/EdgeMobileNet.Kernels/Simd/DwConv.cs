using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using EdgeMobileNet.Kernels.Dispatch;
using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Kernels.Simd;

/// <summary>
/// fp32 depthwise convolution (depth multiplier 1, any kernel size, stride, dilation and padding): per output
/// pixel, the window's valid taps are found once, then each vector of channels accumulates over them.
/// Weights are packed [bias][taps][channels padded to the vector]; channels past the last full vector are done
/// scalar. Bias and clamp fused.
/// </summary>
public sealed unsafe class F32DwConv<TOps, TV> : F32ConvolutionKernel
    where TOps : struct, IF32Ops<TV>
    where TV : struct
{
    private readonly float[] _packed;
    private readonly int _padded, _taps;
    private readonly float _min, _max;

    public F32DwConv(in ConvGeometry g, ReadOnlySpan<float> filter, ReadOnlySpan<float> bias, float outputMin, float outputMax)
        : base(g, $"F32DwConv{g.KernelH}x{g.KernelW}_{TOps.Isa}")
    {
        if (g.DepthMultiplier != 1 || g.OutC != g.InC) throw new ArgumentException("depth multiplier must be 1");
        _taps = g.KernelH * g.KernelW;
        if (filter.Length != (long)_taps * g.OutC) throw new ArgumentException($"filter has {filter.Length} elements, expected {(long)_taps * g.OutC}");
        if (!bias.IsEmpty && bias.Length != g.OutC) throw new ArgumentException($"bias has {bias.Length} elements, expected {g.OutC}");
        _padded = (g.OutC + TOps.Count - 1) / TOps.Count * TOps.Count;
        _packed = GC.AllocateArray<float>((_taps + 1) * _padded, pinned: true);
        for (int c = 0; c < g.OutC; c++)
        {
            _packed[c] = bias.IsEmpty ? 0f : bias[c];
            for (int t = 0; t < _taps; t++) _packed[(t + 1) * _padded + c] = filter[t * g.OutC + c];
        }
        _min = outputMin;
        _max = outputMax;
    }

    public override void Run(ReadOnlySpan<float> input, Span<float> output, int firstRow, int rowCount)
    {
        CheckRun(input.Length, output.Length, firstRow, rowCount);
        var g = Geometry;
        int channels = g.OutC, vectorChannels = channels / TOps.Count * TOps.Count, padded = _padded;
        TV min = TOps.Broadcast(_min), max = TOps.Broadcast(_max);
        float* bias = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_packed));
        float* weights = bias + padded;
        fixed (float* inp = input)
        fixed (float* outp = output)
        {
            for (int row = firstRow; row < firstRow + rowCount; row++)
            {
                int b = row / g.OutH, oy = row - b * g.OutH;
                int iy0 = oy * g.StrideH - g.PadTop;
                int kyStart = 0, kyEnd = g.KernelH;
                while (kyStart < kyEnd && iy0 + kyStart * g.DilationH < 0) kyStart++;
                while (kyEnd > kyStart && iy0 + (kyEnd - 1) * g.DilationH >= g.InH) kyEnd--;
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    int ix0 = ox * g.StrideW - g.PadLeft;
                    int kxStart = 0, kxEnd = g.KernelW;
                    while (kxStart < kxEnd && ix0 + kxStart * g.DilationW < 0) kxStart++;
                    while (kxEnd > kxStart && ix0 + (kxEnd - 1) * g.DilationW >= g.InW) kxEnd--;
                    float* o = outp + ((long)row * g.OutW + ox) * channels;
                    float* inBase = inp + ((long)(b * g.InH + iy0) * g.InW + ix0) * channels;
                    int c = 0;
                    for (; c < vectorChannels; c += TOps.Count)
                    {
                        TV acc = TOps.Broadcast(0f);
                        for (int ky = kyStart; ky < kyEnd; ky++)
                        {
                            float* inRow = inBase + (long)ky * g.DilationH * g.InW * channels + c;
                            float* wRow = weights + ky * g.KernelW * padded + c;
                            for (int kx = kxStart; kx < kxEnd; kx++)
                                acc = TOps.MultiplyAdd(acc, TOps.Load(inRow + (long)kx * g.DilationW * channels), TOps.Load(wRow + kx * padded));
                        }
                        acc = TOps.MultiplyAdd(TOps.Load(bias + c), acc, TOps.Broadcast(1f)); // bias last, as the reference
                        TOps.Store(o + c, TOps.Clamp(acc, min, max));
                    }
                    for (; c < channels; c++)
                    {
                        float acc = 0f;
                        for (int ky = kyStart; ky < kyEnd; ky++)
                        for (int kx = kxStart; kx < kxEnd; kx++)
                            acc += inBase[((long)ky * g.DilationH * g.InW + kx * g.DilationW) * channels + c] * weights[(ky * g.KernelW + kx) * padded + c];
                        acc += bias[c];
                        o[c] = Math.Clamp(acc, _min, _max);
                    }
                }
            }
        }
    }
}

/// <summary>
/// int8 depthwise convolution (depth multiplier 1, any window): 8 channels at a time, (input - zero point) widened
/// to int16 and multiplied into int32 accumulators with int32 weights (Vector128 on every ISA); padding taps are
/// skipped as in the reference; requantization through <see cref="Qs8Requantizer"/>.
/// </summary>
public sealed unsafe class Qs8DwConv : Qs8ConvolutionKernel
{
    private readonly int[] _packed;
    private readonly Qs8ChannelParams _requant;
    private readonly int _padded, _inputZeroPoint;

    public Qs8DwConv(in ConvGeometry g, int inputZeroPoint, Qs8OutputParams outputParams, ReadOnlySpan<sbyte> filter,
        ReadOnlySpan<int> bias, string isa)
        : base(g, $"Qs8DwConv{g.KernelH}x{g.KernelW}_{isa}")
    {
        if (g.DepthMultiplier != 1 || g.OutC != g.InC) throw new ArgumentException("depth multiplier must be 1");
        int taps = g.KernelH * g.KernelW;
        if (filter.Length != (long)taps * g.OutC) throw new ArgumentException($"filter has {filter.Length} elements, expected {(long)taps * g.OutC}");
        if (!bias.IsEmpty && bias.Length != g.OutC) throw new ArgumentException($"bias has {bias.Length} elements, expected {g.OutC}");
        if (outputParams.Multipliers.Length != 1 && outputParams.Multipliers.Length != g.OutC)
            throw new ArgumentException($"{outputParams.Multipliers.Length} multipliers for {g.OutC} output channels");
        _padded = (g.OutC + 7) / 8 * 8;
        _packed = GC.AllocateArray<int>((taps + 1) * _padded, pinned: true);
        for (int c = 0; c < g.OutC; c++)
        {
            _packed[c] = bias.IsEmpty ? 0 : bias[c];
            for (int t = 0; t < taps; t++) _packed[(t + 1) * _padded + c] = filter[t * g.OutC + c];
        }
        _requant = new Qs8ChannelParams(outputParams, g.OutC, _padded);
        _inputZeroPoint = inputZeroPoint;
    }

    public override void Run(ReadOnlySpan<sbyte> input, Span<sbyte> output, int firstRow, int rowCount)
    {
        CheckRun(input.Length, output.Length, firstRow, rowCount);
        var g = Geometry;
        int channels = g.OutC, vectorChannels = channels / 8 * 8, padded = _padded;
        int* bias = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_packed));
        int* weights = bias + padded;
        var zp = Vector128.Create((short)_inputZeroPoint);
        int* acc = stackalloc int[8];
        fixed (sbyte* inp = input)
        fixed (sbyte* outp = output)
        {
            for (int row = firstRow; row < firstRow + rowCount; row++)
            {
                int b = row / g.OutH, oy = row - b * g.OutH;
                int iy0 = oy * g.StrideH - g.PadTop;
                int kyStart = 0, kyEnd = g.KernelH;
                while (kyStart < kyEnd && iy0 + kyStart * g.DilationH < 0) kyStart++;
                while (kyEnd > kyStart && iy0 + (kyEnd - 1) * g.DilationH >= g.InH) kyEnd--;
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    int ix0 = ox * g.StrideW - g.PadLeft;
                    int kxStart = 0, kxEnd = g.KernelW;
                    while (kxStart < kxEnd && ix0 + kxStart * g.DilationW < 0) kxStart++;
                    while (kxEnd > kxStart && ix0 + (kxEnd - 1) * g.DilationW >= g.InW) kxEnd--;
                    sbyte* o = outp + ((long)row * g.OutW + ox) * channels;
                    sbyte* inBase = inp + ((long)(b * g.InH + iy0) * g.InW + ix0) * channels;
                    int c = 0;
                    for (; c < vectorChannels; c += 8)
                    {
                        var lo = Vector128.Load(bias + c);
                        var hi = Vector128.Load(bias + c + 4);
                        for (int ky = kyStart; ky < kyEnd; ky++)
                        {
                            sbyte* inRow = inBase + (long)ky * g.DilationH * g.InW * channels + c;
                            int* wRow = weights + ky * g.KernelW * padded + c;
                            for (int kx = kxStart; kx < kxEnd; kx++)
                            {
                                var x = Vector128.WidenLower(Vector128.CreateScalar(Unsafe.ReadUnaligned<long>(inRow + (long)kx * g.DilationW * channels)).AsSByte()) - zp;
                                var (xl, xh) = Vector128.Widen(x);
                                lo += xl * Vector128.Load(wRow + kx * padded);
                                hi += xh * Vector128.Load(wRow + kx * padded + 4);
                            }
                        }
                        lo.Store(acc);
                        hi.Store(acc + 4);
                        Qs8Requantizer.Row(acc, o + c, 8, _requant, c);
                    }
                    if (c < channels)
                    {
                        int n = channels - c;
                        for (int j = 0; j < n; j++)
                        {
                            int sum = bias[c + j];
                            for (int ky = kyStart; ky < kyEnd; ky++)
                            for (int kx = kxStart; kx < kxEnd; kx++)
                                sum += (inBase[((long)ky * g.DilationH * g.InW + kx * g.DilationW) * channels + c + j] - _inputZeroPoint)
                                    * weights[(ky * g.KernelW + kx) * padded + c + j];
                            acc[j] = sum;
                        }
                        Qs8Requantizer.Row(acc, o + c, n, _requant, c);
                    }
                }
            }
        }
    }
}
