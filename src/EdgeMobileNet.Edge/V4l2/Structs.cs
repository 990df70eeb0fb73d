using System.Runtime.InteropServices;

namespace EdgeMobileNet.Edge.V4l2;

// Layouts of linux/videodev2.h for LP64 (x86-64 and arm64 share them). Sizes and offsets are
// asserted by V4l2Layout.Check (unit tests on x64, selftest in the arm64 binary under QEMU).

/// <summary>struct v4l2_capability (104 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct V4l2Capability
{
    public fixed byte Driver[16];
    public fixed byte Card[32];
    public fixed byte BusInfo[32];
    public uint Version;
    public uint Capabilities;
    public uint DeviceCaps;
    public fixed uint Reserved[3];
}

/// <summary>struct v4l2_fmtdesc (64 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct V4l2FmtDesc
{
    public uint Index;
    public uint Type;
    public uint Flags;
    public fixed byte Description[32];
    public uint PixelFormat;
    public uint MbusCode;
    public fixed uint Reserved[3];
}

/// <summary>struct v4l2_frmsizeenum (44 bytes): index, pixel_format, type, union { discrete; stepwise (6 x u32) }, reserved[2].</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct V4l2FrmSizeEnum
{
    public uint Index;
    public uint PixelFormat;
    public uint Type;
    /// <summary>discrete: width, height; stepwise: min_width, max_width, step_width, min_height, max_height, step_height.</summary>
    public fixed uint Size[6];
    public fixed uint Reserved[2];
}

/// <summary>struct v4l2_pix_format (48 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct V4l2PixFormat
{
    public uint Width;
    public uint Height;
    public uint PixelFormat;
    public uint Field;
    public uint BytesPerLine;
    public uint SizeImage;
    public uint Colorspace;
    public uint Priv;
    public uint Flags;
    public uint YcbcrEnc;
    public uint Quantization;
    public uint XferFunc;
}

/// <summary>
/// struct v4l2_format (208 bytes on 64-bit): u32 type, then a 200-byte union that holds pointers
/// (struct v4l2_window), so it is 8-aligned and starts at offset 8.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 208)]
public struct V4l2Format
{
    [FieldOffset(0)] public uint Type;
    [FieldOffset(8)] public V4l2PixFormat Pix;
    [FieldOffset(200)] private ulong _tail;
}

/// <summary>struct v4l2_captureparm (40 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct V4l2CaptureParm
{
    public uint Capability;
    public uint CaptureMode;
    public uint TimePerFrameNumerator;
    public uint TimePerFrameDenominator;
    public uint ExtendedMode;
    public uint ReadBuffers;
    public fixed uint Reserved[4];
}

/// <summary>struct v4l2_streamparm (204 bytes): u32 type + 200-byte union (4-aligned).</summary>
[StructLayout(LayoutKind.Explicit, Size = 204)]
public struct V4l2StreamParm
{
    [FieldOffset(0)] public uint Type;
    [FieldOffset(4)] public V4l2CaptureParm Capture;
}

/// <summary>struct v4l2_requestbuffers (20 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct V4l2RequestBuffers
{
    public uint Count;
    public uint Type;
    public uint Memory;
    public uint Capabilities;
    public byte Flags;
    public fixed byte Reserved[3];
}

/// <summary>struct v4l2_timecode (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct V4l2Timecode
{
    public uint Type;
    public uint Flags;
    public byte Frames, Seconds, Minutes, Hours;
    public fixed byte UserBits[4];
}

/// <summary>
/// struct v4l2_buffer (88 bytes on 64-bit): index, type, bytesused, flags, field, 4 bytes padding,
/// struct timeval timestamp (16) at 24, timecode at 40, sequence 56, memory 60, union m (offset /
/// userptr / planes / fd; 8 bytes) at 64, length 72, reserved2 76, request_fd 80, padding to 88.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 88)]
public struct V4l2Buffer
{
    [FieldOffset(0)] public uint Index;
    [FieldOffset(4)] public uint Type;
    [FieldOffset(8)] public uint BytesUsed;
    [FieldOffset(12)] public uint Flags;
    [FieldOffset(16)] public uint Field;
    [FieldOffset(24)] public long TimestampSec;
    [FieldOffset(32)] public long TimestampUsec;
    [FieldOffset(40)] public V4l2Timecode Timecode;
    [FieldOffset(56)] public uint Sequence;
    [FieldOffset(60)] public uint Memory;
    [FieldOffset(64)] public uint Offset;
    [FieldOffset(64)] public ulong UserPtr;
    [FieldOffset(72)] public uint Length;
    [FieldOffset(76)] public uint Reserved2;
    [FieldOffset(80)] public int RequestFd;
}

/// <summary>Constants and ioctl numbers of linux/videodev2.h, computed with _IOC from the struct sizes.</summary>
public static unsafe class V4l2Api
{
    public const uint BufTypeVideoCapture = 1;
    public const uint MemoryMmap = 1;
    public const uint FieldNone = 1;
    public const uint FrmSizeTypeDiscrete = 1;
    public const uint CapVideoCapture = 0x1, CapStreaming = 0x04000000, CapDeviceCaps = 0x80000000;
    public const uint CapTimePerFrame = 0x1000;
    public const uint BufFlagError = 0x40;

    private const uint V = 'V';
    public static readonly uint QueryCap = Ioc.Read(V, 0, sizeof(V4l2Capability));
    public static readonly uint EnumFmt = Ioc.ReadWrite(V, 2, sizeof(V4l2FmtDesc));
    public static readonly uint GetFmt = Ioc.ReadWrite(V, 4, sizeof(V4l2Format));
    public static readonly uint SetFmt = Ioc.ReadWrite(V, 5, sizeof(V4l2Format));
    public static readonly uint ReqBufs = Ioc.ReadWrite(V, 8, sizeof(V4l2RequestBuffers));
    public static readonly uint QueryBuf = Ioc.ReadWrite(V, 9, sizeof(V4l2Buffer));
    public static readonly uint QBuf = Ioc.ReadWrite(V, 15, sizeof(V4l2Buffer));
    public static readonly uint DqBuf = Ioc.ReadWrite(V, 17, sizeof(V4l2Buffer));
    public static readonly uint StreamOn = Ioc.WriteOnly(V, 18, sizeof(int));
    public static readonly uint StreamOff = Ioc.WriteOnly(V, 19, sizeof(int));
    public static readonly uint GetParm = Ioc.ReadWrite(V, 21, sizeof(V4l2StreamParm));
    public static readonly uint SetParm = Ioc.ReadWrite(V, 22, sizeof(V4l2StreamParm));
    public static readonly uint EnumFrameSizes = Ioc.ReadWrite(V, 74, sizeof(V4l2FrmSizeEnum));

    public static uint FourCc(string s) => (uint)(s[0] | s[1] << 8 | s[2] << 16 | s[3] << 24);

    public static string FourCcText(uint f) =>
        new([(char)(f & 0xff), (char)((f >> 8) & 0xff), (char)((f >> 16) & 0xff), (char)(f >> 24)]);

    public static readonly uint Yuyv = FourCc("YUYV"), Mjpeg = FourCc("MJPG"), Jpeg = FourCc("JPEG"), Nv12 = FourCc("NV12"),
        Yu12 = FourCc("YU12"), Rgb3 = FourCc("RGB3"), Bgr3 = FourCc("BGR3"), Grey = FourCc("GREY");
}
