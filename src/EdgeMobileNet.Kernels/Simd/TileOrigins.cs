namespace EdgeMobileNet.Kernels.Simd;

/// <summary>
/// The window origins (batch, first input row, first input column) of a GEMM tile's consecutive output pixels:
/// one division pair for the first pixel, then steps along the output rows. Six divisions per tile had cost as
/// much as the arithmetic of a small-depth pointwise tile.
/// </summary>
internal static unsafe class TileOrigins
{
    /// <summary>
    /// Origins of pixels p .. p + rows - 1 into b/y/x[0 .. count); entries past <paramref name="rows"/> repeat the
    /// last pixel (computed, never stored, by the tiles).
    /// </summary>
    public static void Fill(in ConvGeometry g, int p, int rows, int count, int* b, int* y, int* x)
    {
        int plane = g.OutH * g.OutW;
        int batch = p / plane, r = p - batch * plane, oy = r / g.OutW, ox = r - oy * g.OutW;
        for (int i = 0; i < count; i++)
        {
            b[i] = batch;
            y[i] = oy * g.StrideH - g.PadTop;
            x[i] = ox * g.StrideW - g.PadLeft;
            if (i + 1 >= rows) continue;
            if (++ox < g.OutW) continue;
            ox = 0;
            if (++oy < g.OutH) continue;
            oy = 0;
            batch++;
        }
    }
}
