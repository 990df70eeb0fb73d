namespace EdgeMobileNet.Import.Tflite;

/// <summary>The subset of TFLite's schema.fbs (schema version 3) that the importer reads: field ids and enum values.</summary>
internal static class TfliteSchema
{
    public const string FileIdentifier = "TFL3";

    // table Model
    public const int ModelVersion = 0, ModelOperatorCodes = 1, ModelSubgraphs = 2, ModelDescription = 3, ModelBuffers = 4;

    // table OperatorCode
    public const int CodeDeprecatedBuiltin = 0, CodeCustom = 1, CodeVersion = 2, CodeBuiltin = 3;

    // table SubGraph
    public const int SubGraphTensors = 0, SubGraphInputs = 1, SubGraphOutputs = 2, SubGraphOperators = 3, SubGraphName = 4;

    // table Tensor
    public const int TensorShape = 0, TensorType = 1, TensorBuffer = 2, TensorName = 3, TensorQuantization = 4,
        TensorIsVariable = 5, TensorSparsity = 6;

    // table QuantizationParameters
    public const int QuantMin = 0, QuantMax = 1, QuantScale = 2, QuantZeroPoint = 3, QuantDetailsType = 4,
        QuantDetails = 5, QuantDimension = 6;

    // table Buffer
    public const int BufferData = 0, BufferOffset = 1, BufferSize = 2;

    // table Operator
    public const int OpOpcodeIndex = 0, OpInputs = 1, OpOutputs = 2, OpBuiltinOptionsType = 3, OpBuiltinOptions = 4;

    // BuiltinOptions union type ids
    public const byte OptConv2D = 1, OptDepthwiseConv2D = 2, OptPool2D = 5, OptFullyConnected = 8, OptSoftmax = 9,
        OptAdd = 11, OptReducer = 27;

    // Conv2DOptions: padding, stride_w, stride_h, fused_activation_function, dilation_w_factor, dilation_h_factor
    public const int ConvPadding = 0, ConvStrideW = 1, ConvStrideH = 2, ConvActivation = 3, ConvDilationW = 4, ConvDilationH = 5;

    // DepthwiseConv2DOptions: padding, stride_w, stride_h, depth_multiplier, fused_activation_function, dilation_w, dilation_h
    public const int DwPadding = 0, DwStrideW = 1, DwStrideH = 2, DwDepthMultiplier = 3, DwActivation = 4,
        DwDilationW = 5, DwDilationH = 6;

    // Pool2DOptions: padding, stride_w, stride_h, filter_width, filter_height, fused_activation_function
    public const int PoolPadding = 0, PoolStrideW = 1, PoolStrideH = 2, PoolFilterW = 3, PoolFilterH = 4, PoolActivation = 5;

    // FullyConnectedOptions: fused_activation_function, weights_format, keep_num_dims
    public const int FcActivation = 0, FcWeightsFormat = 1, FcKeepNumDims = 2;

    // SoftmaxOptions: beta. AddOptions: fused_activation_function. ReducerOptions: keep_dims.
    public const int SoftmaxBeta = 0, AddActivation = 0, ReducerKeepDims = 0;

    // enum Padding
    public const byte PaddingSame = 0, PaddingValid = 1;

    // enum ActivationFunctionType
    public const sbyte ActNone = 0, ActRelu = 1, ActReluN1To1 = 2, ActRelu6 = 3, ActTanh = 4, ActSignBit = 5;

    // enum TensorType
    public const sbyte TypeFloat32 = 0, TypeFloat16 = 1, TypeInt32 = 2, TypeUInt8 = 3, TypeInt64 = 4, TypeInt8 = 9;

    // enum BuiltinOperator (the ones the importer maps)
    public const int Add = 0, AveragePool2D = 1, Conv2D = 3, DepthwiseConv2D = 4, Dequantize = 6, FullyConnected = 9,
        Reshape = 22, Softmax = 25, Custom = 32, Pad = 34, Transpose = 39, Mean = 40, Squeeze = 43, Quantize = 114;

    private static readonly Dictionary<int, string> Names = new()
    {
        [0] = "ADD", [1] = "AVERAGE_POOL_2D", [2] = "CONCATENATION", [3] = "CONV_2D", [4] = "DEPTHWISE_CONV_2D",
        [5] = "DEPTH_TO_SPACE", [6] = "DEQUANTIZE", [7] = "EMBEDDING_LOOKUP", [8] = "FLOOR", [9] = "FULLY_CONNECTED",
        [11] = "L2_NORMALIZATION", [12] = "L2_POOL_2D", [13] = "LOCAL_RESPONSE_NORMALIZATION", [14] = "LOGISTIC",
        [16] = "LSTM", [17] = "MAX_POOL_2D", [18] = "MUL", [19] = "RELU", [20] = "RELU_N1_TO_1", [21] = "RELU6",
        [22] = "RESHAPE", [23] = "RESIZE_BILINEAR", [25] = "SOFTMAX", [26] = "SPACE_TO_DEPTH", [28] = "TANH",
        [32] = "CUSTOM", [34] = "PAD", [36] = "GATHER", [39] = "TRANSPOSE", [40] = "MEAN", [41] = "SUB", [42] = "DIV",
        [43] = "SQUEEZE", [45] = "STRIDED_SLICE", [47] = "EXP", [49] = "SPLIT", [53] = "CAST", [54] = "PRELU",
        [55] = "MAXIMUM", [56] = "ARG_MAX", [57] = "MINIMUM", [60] = "PADV2", [65] = "SLICE", [67] = "TRANSPOSE_CONV",
        [70] = "EXPAND_DIMS", [74] = "SUM", [82] = "REDUCE_MAX", [83] = "PACK", [97] = "RESIZE_NEAREST_NEIGHBOR",
        [98] = "LEAKY_RELU", [100] = "MIRROR_PAD", [114] = "QUANTIZE", [117] = "HARD_SWISH", [126] = "BATCH_MATMUL",
    };

    public static string OperatorName(int code) => Names.TryGetValue(code, out var n) ? n : $"BUILTIN_{code}";

    public static string TypeName(sbyte type) => type switch
    {
        TypeFloat32 => "FLOAT32", TypeFloat16 => "FLOAT16", TypeInt32 => "INT32", TypeUInt8 => "UINT8",
        TypeInt64 => "INT64", 5 => "STRING", 6 => "BOOL", 7 => "INT16", TypeInt8 => "INT8",
        _ => $"type {type}",
    };
}
