namespace EdgeMobileNet.Zoo;

/// <summary>
/// Deterministic random numbers for architecture-only models. Only System.Random's seeded
/// generator and arithmetic are used (no transcendental functions), so a seed gives the same
/// weights on every machine and CPU.
/// </summary>
public sealed class SeededWeights(int seed)
{
    private readonly Random _random = new(seed);

    /// <summary>Approximately standard normal: the Irwin–Hall sum of 12 uniforms, minus 6.</summary>
    public float NextNormal()
    {
        double sum = 0;
        for (int i = 0; i < 12; i++) sum += _random.NextDouble();
        return (float)(sum - 6.0);
    }

    public float NextUniform(float min, float max) => (float)(min + (max - min) * _random.NextDouble());

    /// <summary>
    /// He-initialised filter with batch normalization folded in: per output channel a BN scale
    /// gamma/sqrt(var+eps) multiplies that channel's weights, and the folded bias beta - mean*scale is returned.
    /// <paramref name="channelOf"/> maps a flat weight index to its output channel.
    /// </summary>
    public (float[] Weights, float[] Bias) FoldedFilter(int count, int fanIn, int outChannels, Func<int, int> channelOf)
    {
        float std = MathF.Sqrt(2f / fanIn);
        var bnScale = new float[outChannels];
        var bias = new float[outChannels];
        for (int c = 0; c < outChannels; c++)
        {
            bnScale[c] = NextUniform(0.6f, 1.2f);
            bias[c] = NextNormal() * 0.1f;
        }
        var weights = new float[count];
        for (int i = 0; i < count; i++) weights[i] = NextNormal() * std * bnScale[channelOf(i)];
        return (weights, bias);
    }
}
