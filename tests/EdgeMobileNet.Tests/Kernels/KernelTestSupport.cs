using EdgeMobileNet.Kernels;

namespace EdgeMobileNet.Tests.Kernels;

/// <summary>
/// Test-local, independent formulations of TFLite's integer arithmetic (written with Int128 and floor division,
/// not with the bit tricks of the production code) plus random data helpers. Nothing here calls the code under test.
/// </summary>
internal static class Exact
{
    private static readonly Int128 Two31 = (Int128)1 << 31;

    /// <summary>floor(n / d) for d &gt; 0.</summary>
    public static Int128 FloorDiv(Int128 n, Int128 d)
    {
        Int128 q = n / d;
        if (n % d != 0 && n < 0) q -= 1;
        return q;
    }

    /// <summary>SaturatingRoundingDoublingHighMul from its definition: floor((2ab + 2^31) / 2^32), saturated.</summary>
    public static int Srdhm(int a, int b)
    {
        Int128 r = FloorDiv(2 * (Int128)a * b + Two31, (Int128)1 << 32);
        return (int)Int128.Clamp(r, int.MinValue, int.MaxValue);
    }

    /// <summary>x / 2^e rounded to nearest, ties away from zero.</summary>
    public static int RoundDivPow2(Int128 x, int e)
    {
        Int128 d = (Int128)1 << e;
        Int128 magnitude = FloorDiv(2 * Int128.Abs(x) + d, 2 * d); // floor(|x|/d + 1/2)
        return (int)(x < 0 ? -magnitude : magnitude);
    }

    /// <summary>TFLite double-rounding MultiplyByQuantizedMultiplier: the left shift wraps in int32 like TFLite's.</summary>
    public static int Mbqm(int x, int multiplier, int shift)
    {
        int left = Math.Max(shift, 0), right = Math.Max(-shift, 0);
        int shifted = unchecked((int)((long)x << left));
        return RoundDivPow2(Srdhm(shifted, multiplier), right);
    }

    public static int RoundHalfAway(double x) => (int)Math.Round(x, MidpointRounding.AwayFromZero);

    public static int ClampInt8(long x, int min = sbyte.MinValue, int max = sbyte.MaxValue) => (int)Math.Clamp(x, min, max);
}

internal static class Rand
{
    public static readonly int[] SpecialInts =
    [
        0, 1, -1, 2, -2, int.MaxValue, int.MinValue, int.MaxValue - 1, int.MinValue + 1,
        1 << 30, -(1 << 30), (1 << 30) + 1, (1 << 30) - 1, 1 << 15, -(1 << 15), 255, -255, 127, -128,
    ];

    /// <summary>Uniform over all int32 values, with the special values mixed in 20% of the time.</summary>
    public static int Int(Random rng) =>
        rng.Next(5) == 0 ? SpecialInts[rng.Next(SpecialInts.Length)] : (int)rng.NextInt64(int.MinValue, (long)int.MaxValue + 1);

    /// <summary>Log-uniform in [lo, hi].</summary>
    public static double LogUniform(Random rng, double lo, double hi) =>
        Math.Exp(Math.Log(lo) + rng.NextDouble() * (Math.Log(hi) - Math.Log(lo)));

    public static sbyte[] Int8(Random rng, int count, int lo = sbyte.MinValue, int hi = sbyte.MaxValue)
    {
        var data = new sbyte[count];
        for (int i = 0; i < count; i++) data[i] = (sbyte)rng.Next(lo, hi + 1);
        return data;
    }

    public static float[] Floats(Random rng, int count, double lo = -1, double hi = 1)
    {
        var data = new float[count];
        for (int i = 0; i < count; i++) data[i] = (float)(lo + rng.NextDouble() * (hi - lo));
        return data;
    }

    /// <summary>Zero point: often an extreme (-128 / 127 / 0), otherwise uniform.</summary>
    public static int ZeroPoint(Random rng) => rng.Next(4) switch
    {
        0 => -128,
        1 => 127,
        2 => 0,
        _ => rng.Next(-128, 128),
    };

    private static readonly (int, int)[] KernelShapes = [(1, 1), (1, 1), (3, 3), (3, 3), (3, 3), (1, 3), (3, 1)];

    /// <summary>
    /// A random NHWC geometry: batch 1-2, odd and even channel counts 1..17, kernel 1x1 or 3x3 (sometimes 1x3 / 3x1),
    /// stride 1-2, dilation 1-2, asymmetric padding. Depthwise uses OutC = InC * (1 or 2); pooling uses OutC = InC.
    /// </summary>
    public static ConvGeometry Geometry(Random rng, GeometryKind kind)
    {
        while (true)
        {
            int batch = rng.Next(1, 3);
            int inH = rng.Next(1, 9), inW = rng.Next(1, 9);
            int inC = rng.Next(1, 18);
            var (kernelH, kernelW) = KernelShapes[rng.Next(KernelShapes.Length)];
            int strideH = rng.Next(1, 3), strideW = rng.Next(1, 3);
            int dilationH = rng.Next(1, 3), dilationW = rng.Next(1, 3);
            int padTop = rng.Next(0, (kernelH - 1) * dilationH + 1), padBottom = rng.Next(0, (kernelH - 1) * dilationH + 1);
            int padLeft = rng.Next(0, (kernelW - 1) * dilationW + 1), padRight = rng.Next(0, (kernelW - 1) * dilationW + 1);
            int outH = ConvGeometry.OutputSize(inH, kernelH, strideH, dilationH, padTop, padBottom);
            int outW = ConvGeometry.OutputSize(inW, kernelW, strideW, dilationW, padLeft, padRight);
            if (outH == 0 || outW == 0) continue;
            int multiplier = kind == GeometryKind.Depthwise ? rng.Next(1, 3) : 1;
            int outC = kind switch
            {
                GeometryKind.Conv => rng.Next(1, 18),
                GeometryKind.Depthwise => inC * multiplier,
                _ => inC,
            };
            var g = new ConvGeometry(batch, inH, inW, inC, outH, outW, outC, kernelH, kernelW, strideH, strideW,
                dilationH, dilationW, padTop, padLeft, multiplier);
            if (kind == GeometryKind.Pool && !EveryWindowSeesInput(g)) continue;
            return g;
        }
    }

    private static bool EveryWindowSeesInput(ConvGeometry g)
    {
        for (int oy = 0; oy < g.OutH; oy++)
        for (int ox = 0; ox < g.OutW; ox++)
            if (Window(g, oy, ox).Count == 0) return false;
        return true;
    }

    /// <summary>The in-bounds input pixels (iy, ix) read by output pixel (oy, ox).</summary>
    public static List<(int Y, int X)> Window(ConvGeometry g, int oy, int ox)
    {
        var taps = new List<(int, int)>();
        for (int ky = 0; ky < g.KernelH; ky++)
        for (int kx = 0; kx < g.KernelW; kx++)
        {
            int iy = oy * g.StrideH - g.PadTop + ky * g.DilationH;
            int ix = ox * g.StrideW - g.PadLeft + kx * g.DilationW;
            if (iy >= 0 && iy < g.InH && ix >= 0 && ix < g.InW) taps.Add((iy, ix));
        }
        return taps;
    }
}

internal enum GeometryKind { Conv, Depthwise, Pool }
