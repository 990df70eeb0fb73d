using EdgeMobileNet.Edge.Config;
using EdgeMobileNet.Edge.Frames;
using EdgeMobileNet.Edge.Imaging;
using EdgeMobileNet.Format.Model;
using EdgeMobileNet.Graph.Runtime;

namespace EdgeMobileNet.Edge.Runtime;

/// <summary>
/// Frame in, class scores out: fused preprocessing straight into the session's input tensor, run,
/// dequantize, optional softmax, all into buffers allocated once.
/// </summary>
public sealed class FrameClassifier
{
    private readonly InferenceSession _session;
    private readonly FramePreprocessor _preprocessor;
    private readonly TensorDefinition _output;
    private readonly float[] _scores;
    private readonly ScoreMode _mode;

    public FrameClassifier(InferenceSession session, ResizeMode resize, ScoreMode mode)
    {
        _session = session;
        var contract = session.Model.InputContract
            ?? throw new ArgumentException($"{session.SourceName}: the model has no input contract, so frames cannot be fed to it");
        _preprocessor = new FramePreprocessor(contract, session.InputTensor(0), resize);
        _output = session.OutputTensor(0);
        if (_output.DataType is not (DataType.Float32 or DataType.Int8))
            throw new ArgumentException($"{session.SourceName}: output '{_output.Name}' is {_output.DataType}, not class scores");
        _scores = new float[_output.ElementCount];
        _mode = mode;
    }

    public int ClassCount => _scores.Length;
    public ReadOnlySpan<float> Scores => _scores;

    public void Preprocess(FrameBuffer frame)
    {
        // On the session's threads: they are idle between inferences, and preprocessing a camera frame on one of them
        // took a fifth as long as V1 1.0-224 int8's inference on it.
        if (_preprocessor.IsInt8) _preprocessor.WriteInt8(frame, _session.Input<sbyte>(0), _session);
        else _preprocessor.WriteF32(frame, _session.Input<float>(0), _session);
    }

    /// <summary>Runs the model on the preprocessed input; the scores are valid until the next call.</summary>
    public ReadOnlySpan<float> Infer()
    {
        _session.Run();
        if (_output.DataType == DataType.Float32) _session.Output<float>(0).CopyTo(_scores);
        else
        {
            var q = _output.Quantization!;
            var raw = _session.Output<sbyte>(0);
            for (int i = 0; i < raw.Length; i++) _scores[i] = q.Scale * (raw[i] - q.ZeroPoint);
        }
        if (_mode == ScoreMode.Logits) Softmax(_scores);
        return _scores;
    }

    public static void Softmax(Span<float> values)
    {
        float max = float.NegativeInfinity;
        foreach (float v in values) max = Math.Max(max, v);
        double sum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = MathF.Exp(values[i] - max);
            sum += values[i];
        }
        float inv = (float)(1 / sum);
        for (int i = 0; i < values.Length; i++) values[i] *= inv;
    }
}
