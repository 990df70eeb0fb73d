namespace EdgeMobileNet.Kernels.Simd;

/// <summary>
/// How a GEMM that stages im2col rows moves input values into them (fp32 copies floats, the AVX2 int8 GEMM widens
/// bytes to int16); the walk over the windows is <see cref="Im2colRows.Write"/>.
/// </summary>
internal unsafe interface IIm2colCopy<TIn, TOut> where TIn : unmanaged where TOut : unmanaged
{
    /// <summary>Copies <paramref name="count"/> contiguous input values: a window row inside the input, or one tap's channels.</summary>
    void Copy(TIn* source, TOut* target, int count);

    /// <summary>Writes <paramref name="count"/> values of padding (taps outside the input).</summary>
    void Pad(TOut* target, int count);
}

/// <summary>The im2col rows of a convolution's output pixels, for the GEMMs that stage them.</summary>
internal static unsafe class Im2colRows
{
    /// <summary>Output columns [From, To) whose every window row lies inside the input's width (none with dilation).</summary>
    public static (int From, int To) InsideColumns(in ConvGeometry g)
    {
        if (g.DilationW != 1) return (0, 0);
        // ox * StrideW - PadLeft >= 0 and ox * StrideW - PadLeft + KernelW - 1 < InW.
        int from = Math.Min((g.PadLeft + g.StrideW - 1) / g.StrideW, g.OutW);
        int last = g.InW + g.PadLeft - g.KernelW;
        return (from, last < 0 ? from : Math.Clamp(last / g.StrideW + 1, from, g.OutW));
    }

    /// <summary>
    /// Writes the window values of output pixels [first, first + pixels) in (ky, kx, ic) order, one row per pixel
    /// <paramref name="rowLength"/> apart (values past the window's are the caller's), a segment of one output row at
    /// a time. Between the row's edges (<paramref name="inside"/>, from <see cref="InsideColumns"/>) every window row is
    /// one contiguous run of KernelW x InC values, each pixel's one stride further along the same input rows, so those
    /// pixels only advance a pointer; the edge pixels go tap by tap. (Computing every pixel's window from scratch, the
    /// geometry spilled to the stack, took as long as the first layer's GEMM: 0.29 ms of V1 1.0-224 int8.)
    /// </summary>
    public static void Write<TIn, TOut, TCopy>(in ConvGeometry g, TIn* input, TOut* target, int rowLength, int first,
        int pixels, (int From, int To) inside, TCopy copy)
        where TIn : unmanaged where TOut : unmanaged where TCopy : struct, IIm2colCopy<TIn, TOut>
    {
        int plane = g.OutH * g.OutW, run = g.KernelW * g.InC, kernelH = g.KernelH;
        int b = first / plane, oy = (first - b * plane) / g.OutW, ox = first - b * plane - oy * g.OutW;
        long* rowOffset = stackalloc long[kernelH]; // per kernel row, its input row's offset, or -1 outside the input
        nint step = (nint)g.StrideW * g.InC;
        for (int p = 0; p < pixels; ox = 0)
        {
            // Pixels [ox, end) of output row (b, oy): a segment ends the row or the chunk.
            int end = ox + Math.Min(g.OutW - ox, pixels - p);
            int from = Math.Clamp(inside.From, ox, end), to = Math.Clamp(inside.To, from, end);
            for (; ox < from; ox++, p++, target += rowLength) Window(g, input, target, b, oy, ox, copy);
            if (from < to)
            {
                for (int ky = 0; ky < kernelH; ky++)
                {
                    int iy = oy * g.StrideH - g.PadTop + ky * g.DilationH;
                    rowOffset[ky] = (uint)iy < (uint)g.InH ? ((long)b * g.InH + iy) * g.InW * g.InC : -1;
                }
                TIn* column = input + (long)(from * g.StrideW - g.PadLeft) * g.InC;
                for (; ox < to; ox++, p++, target += rowLength, column += step)
                {
                    TOut* t = target;
                    for (int ky = 0; ky < kernelH; ky++, t += run)
                    {
                        if (rowOffset[ky] < 0) copy.Pad(t, run);
                        else copy.Copy(column + rowOffset[ky], t, run);
                    }
                }
            }
            for (; ox < end; ox++, p++, target += rowLength) Window(g, input, target, b, oy, ox, copy);
            if (++oy == g.OutH) { oy = 0; b++; }
        }
    }

    /// <summary>One pixel's window tap by tap: taps outside the input are padding.</summary>
    private static void Window<TIn, TOut, TCopy>(in ConvGeometry g, TIn* input, TOut* target, int b, int oy, int ox, TCopy copy)
        where TIn : unmanaged where TOut : unmanaged where TCopy : struct, IIm2colCopy<TIn, TOut>
    {
        int iy0 = oy * g.StrideH - g.PadTop, ix0 = ox * g.StrideW - g.PadLeft;
        for (int ky = 0; ky < g.KernelH; ky++)
        {
            int iy = iy0 + ky * g.DilationH;
            for (int kx = 0; kx < g.KernelW; kx++, target += g.InC)
            {
                int ix = ix0 + kx * g.DilationW;
                if ((uint)iy < (uint)g.InH && (uint)ix < (uint)g.InW) copy.Copy(input + (((long)b * g.InH + iy) * g.InW + ix) * g.InC, target, g.InC);
                else copy.Pad(target, g.InC);
            }
        }
    }
}
