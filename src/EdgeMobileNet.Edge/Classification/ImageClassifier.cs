using EdgeMobileNet.Edge.Imaging;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Runtime;

namespace EdgeMobileNet.Edge.Classification;

/// <summary>
/// Image in, class scores out, over one session: preprocess straight into the input tensor, run,
/// dequantize an int8 output into a reusable score buffer. Allocates nothing per image once the
/// first image of a given size has been seen.
/// </summary>
public sealed class ImageClassifier
{
    private readonly InferenceSession _session;
    private readonly ImagePreprocessor _preprocessor;
    private readonly float[] _scores;
    private readonly bool _int8Input;
    private readonly TensorDefinition _output;

    public ImageClassifier(InferenceSession session)
    {
        _session = session;
        var model = session.Model;
        if (model.InputContract is null)
            throw new ArgumentException($"{session.SourceName}: the model has no input contract, so images cannot be fed to it");
        var input = session.InputTensor(0);
        _preprocessor = new ImagePreprocessor(model.InputContract, input);
        _int8Input = input.DataType == DataType.Int8;
        _output = session.OutputTensor(0);
        if (_output.DataType is not (DataType.Float32 or DataType.Int8))
            throw new ArgumentException($"{session.SourceName}: output '{_output.Name}' is {_output.DataType}, not class scores");
        _scores = new float[_output.ElementCount];
    }

    public int ImageChannels => _preprocessor.ImageChannels;
    public int ClassCount => _scores.Length;

    /// <summary>Classifies one image; the returned scores are valid until the next call.</summary>
    public ReadOnlySpan<float> Classify(RgbImage image)
    {
        if (_int8Input) _preprocessor.WriteInt8(image, _session.Input<sbyte>(0));
        else _preprocessor.WriteF32(image, _session.Input<float>(0));
        _session.Run();
        if (_output.DataType == DataType.Float32)
        {
            _session.Output<float>(0).CopyTo(_scores);
        }
        else
        {
            var q = _output.Quantization!;
            var raw = _session.Output<sbyte>(0);
            for (int i = 0; i < raw.Length; i++) _scores[i] = q.Scale * (raw[i] - q.ZeroPoint);
        }
        return _scores;
    }

    /// <summary>Fills <paramref name="best"/> with the highest scores, best first (ties: lower class first).</summary>
    public static int TopK(ReadOnlySpan<float> scores, Span<(int Class, float Score)> best)
    {
        int count = 0;
        for (int c = 0; c < scores.Length; c++)
        {
            float s = scores[c];
            if (count == best.Length && s <= best[count - 1].Score) continue;
            int pos = count < best.Length ? count++ : count - 1;
            while (pos > 0 && best[pos - 1].Score < s)
            {
                best[pos] = best[pos - 1];
                pos--;
            }
            best[pos] = (c, s);
        }
        return count;
    }
}
