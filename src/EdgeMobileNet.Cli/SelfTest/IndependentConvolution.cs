using EdgeMobileNet.Kernels;
using EdgeMobileNet.Kernels.Quantization;

namespace EdgeMobileNet.Cli.SelfTest;

/// <summary>
/// Convolution computed another way than the reference kernels (im2col rows, then dot products),
/// so that checking the reference against it can catch indexing and padding mistakes in either.
/// </summary>
public static class IndependentConvolution
{
    /// <summary>Column matrix: one row per output pixel, KH*KW*InC entries (padding = padValue).</summary>
    public static T[] Im2Col<T>(in ConvGeometry g, ReadOnlySpan<T> input, int batch, T padValue)
    {
        int rowLength = g.KernelH * g.KernelW * g.InC;
        var columns = new T[g.OutH * g.OutW * rowLength];
        int row = 0;
        for (int oy = 0; oy < g.OutH; oy++)
        for (int ox = 0; ox < g.OutW; ox++, row++)
        {
            int k = 0;
            for (int ky = 0; ky < g.KernelH; ky++)
            for (int kx = 0; kx < g.KernelW; kx++)
            {
                int iy = oy * g.StrideH - g.PadTop + ky * g.DilationH;
                int ix = ox * g.StrideW - g.PadLeft + kx * g.DilationW;
                bool inside = iy >= 0 && iy < g.InH && ix >= 0 && ix < g.InW;
                int source = ((batch * g.InH + iy) * g.InW + ix) * g.InC;
                for (int c = 0; c < g.InC; c++, k++)
                    columns[row * rowLength + k] = inside ? input[source + c] : padValue;
            }
        }
        return columns;
    }

    public static float[] F32(in ConvGeometry g, float[] input, float[] filter, float[] bias, bool depthwise, float min, float max)
    {
        var output = new float[g.Batch * g.OutH * g.OutW * g.OutC];
        int taps = g.KernelH * g.KernelW;
        int rowLength = taps * g.InC;
        for (int n = 0; n < g.Batch; n++)
        {
            var columns = Im2Col<float>(g, input, n, 0f);
            for (int p = 0; p < g.OutH * g.OutW; p++)
            for (int o = 0; o < g.OutC; o++)
            {
                double sum = bias.Length > 0 ? bias[o] : 0;
                for (int t = 0; t < taps; t++)
                {
                    if (depthwise)
                        sum += (double)columns[p * rowLength + t * g.InC + o / g.DepthMultiplier] * filter[t * g.OutC + o];
                    else
                        for (int c = 0; c < g.InC; c++)
                            sum += (double)columns[p * rowLength + t * g.InC + c] * filter[(o * taps + t) * g.InC + c];
                }
                output[(n * g.OutH * g.OutW + p) * g.OutC + o] = Math.Clamp((float)sum, min, max);
            }
        }
        return output;
    }

    public static sbyte[] Qs8(in ConvGeometry g, sbyte[] input, int inputZeroPoint, sbyte[] filter, int[] bias,
        Qs8OutputParams requant, bool depthwise)
    {
        var output = new sbyte[g.Batch * g.OutH * g.OutW * g.OutC];
        int taps = g.KernelH * g.KernelW;
        int rowLength = taps * g.InC;
        for (int n = 0; n < g.Batch; n++)
        {
            // Padding holds the input zero point, which contributes (zp - zp) * w = 0.
            var columns = Im2Col<sbyte>(g, input, n, (sbyte)inputZeroPoint);
            for (int p = 0; p < g.OutH * g.OutW; p++)
            for (int o = 0; o < g.OutC; o++)
            {
                long acc = bias.Length > 0 ? bias[o] : 0;
                for (int t = 0; t < taps; t++)
                {
                    if (depthwise)
                        acc += (long)(columns[p * rowLength + t * g.InC + o / g.DepthMultiplier] - inputZeroPoint) * filter[t * g.OutC + o];
                    else
                        for (int c = 0; c < g.InC; c++)
                            acc += (long)(columns[p * rowLength + t * g.InC + c] - inputZeroPoint) * filter[(o * taps + t) * g.InC + c];
                }
                output[(n * g.OutH * g.OutW + p) * g.OutC + o] = (sbyte)requant.Requantize(checked((int)acc), o);
            }
        }
        return output;
    }
}
