using EdgeMobileNet.Kernels;
using EdgeMobileNet.Kernels.Simd;
using Xunit;

namespace EdgeMobileNet.Tests.Kernels;

/// <summary>The rows a depthwise row sweep prefetches for the next output row: exactly those its window adds.</summary>
public unsafe class DwWindowTests
{
    [Theory]
    [InlineData(1, 1)] // stride 1, SAME: one new row per output row
    [InlineData(2, 0)] // stride 2, TF SAME on an even input: padding only after the last row
    [InlineData(2, 1)]
    public void NextRowsOnlyAreTheRowsTheNextWindowAdds(int stride, int padTop)
    {
        const int inH = 9, inW = 5, channels = 3, batch = 2;
        int outH = (inH + 2 * padTop - 3) / stride + 1;
        var g = new ConvGeometry(batch, inH, inW, channels, outH, inW, channels, 3, 3, stride, 1, 1, 1, padTop, 1, 1);
        long rowBytes = inW * channels * sizeof(float);
        byte* input = (byte*)0x10000; // only addresses are computed
        for (int b = 0; b < batch; b++)
            for (int oy = 0; oy < outH; oy++)
            {
                long bytes = DwWindow.NextRowsOnly(g, input, sizeof(float), b, oy, out byte* start);
                var expected = new SortedSet<int>();
                if (oy + 1 < outH)
                    for (int ky = 0; ky < 3; ky++)
                    {
                        int row = (oy + 1) * stride - padTop + ky;
                        if (row >= 0 && row < inH && row > oy * stride - padTop + 2) expected.Add(row);
                    }
                Assert.Equal(expected.Count * rowBytes, bytes);
                if (expected.Count == 0) continue;
                Assert.Equal((long)(input + (b * inH + expected.Min) * rowBytes), (long)start);
                Assert.Equal(expected.Max - expected.Min + 1, expected.Count); // one contiguous range
            }
    }
}
