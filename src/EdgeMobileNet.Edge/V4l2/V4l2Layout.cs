using System.Runtime.InteropServices;

namespace EdgeMobileNet.Edge.V4l2;

/// <summary>
/// Asserts the videodev2.h struct sizes, field offsets and ioctl numbers this build uses against the
/// values of the 64-bit kernel ABI (x86-64 and arm64 are both LP64 with the same layouts). Runs in
/// the unit tests and in `edgemobilenet selftest`, so the arm64 binary checks itself under QEMU.
/// </summary>
public static unsafe class V4l2Layout
{
    public static List<string> Check()
    {
        var failures = new List<string>();
        if (IntPtr.Size != 8)
        {
            failures.Add($"{IntPtr.Size * 8}-bit process: the V4L2 layouts here are for 64-bit (LP64) only");
            return failures;
        }
        void Size(string name, int actual, int expected)
        {
            if (actual != expected) failures.Add($"sizeof({name}) = {actual}, expected {expected}");
        }
        void Offset<T>(string field, int expected) where T : struct
        {
            int actual = (int)Marshal.OffsetOf<T>(field);
            if (actual != expected) failures.Add($"offsetof({typeof(T).Name}.{field}) = {actual}, expected {expected}");
        }
        void Number(string name, uint actual, uint expected)
        {
            if (actual != expected) failures.Add($"{name} = 0x{actual:x8}, expected 0x{expected:x8}");
        }

        Size("v4l2_capability", sizeof(V4l2Capability), 104);
        Offset<V4l2Capability>(nameof(V4l2Capability.Version), 80);
        Offset<V4l2Capability>(nameof(V4l2Capability.DeviceCaps), 88);
        Size("v4l2_fmtdesc", sizeof(V4l2FmtDesc), 64);
        Offset<V4l2FmtDesc>(nameof(V4l2FmtDesc.PixelFormat), 44);
        Size("v4l2_frmsizeenum", sizeof(V4l2FrmSizeEnum), 44);
        Size("v4l2_pix_format", sizeof(V4l2PixFormat), 48);
        Offset<V4l2PixFormat>(nameof(V4l2PixFormat.BytesPerLine), 16);
        Offset<V4l2PixFormat>(nameof(V4l2PixFormat.Quantization), 40);
        Size("v4l2_format", sizeof(V4l2Format), 208);
        Offset<V4l2Format>(nameof(V4l2Format.Pix), 8);
        Size("v4l2_captureparm", sizeof(V4l2CaptureParm), 40);
        Size("v4l2_streamparm", sizeof(V4l2StreamParm), 204);
        Offset<V4l2StreamParm>(nameof(V4l2StreamParm.Capture), 4);
        Size("v4l2_requestbuffers", sizeof(V4l2RequestBuffers), 20);
        Size("v4l2_timecode", sizeof(V4l2Timecode), 16);
        Size("v4l2_buffer", sizeof(V4l2Buffer), 88);
        Offset<V4l2Buffer>(nameof(V4l2Buffer.Field), 16);
        Offset<V4l2Buffer>(nameof(V4l2Buffer.TimestampSec), 24);
        Offset<V4l2Buffer>(nameof(V4l2Buffer.Timecode), 40);
        Offset<V4l2Buffer>(nameof(V4l2Buffer.Sequence), 56);
        Offset<V4l2Buffer>(nameof(V4l2Buffer.Memory), 60);
        Offset<V4l2Buffer>(nameof(V4l2Buffer.Offset), 64);
        Offset<V4l2Buffer>(nameof(V4l2Buffer.Length), 72);
        Offset<V4l2Buffer>(nameof(V4l2Buffer.RequestFd), 80);
        Size("gpiochip_info", sizeof(Gpio.GpioChipResolver.GpioChipInfo), 68);
        Size("pollfd", sizeof(Libc.PollFd), 8);

        // Values from the kernel headers as compiled for 64-bit (e.g. VIDIOC_DQBUF 0xc0585611).
        Number("VIDIOC_QUERYCAP", V4l2Api.QueryCap, 0x80685600);
        Number("VIDIOC_ENUM_FMT", V4l2Api.EnumFmt, 0xc0405602);
        Number("VIDIOC_G_FMT", V4l2Api.GetFmt, 0xc0d05604);
        Number("VIDIOC_S_FMT", V4l2Api.SetFmt, 0xc0d05605);
        Number("VIDIOC_REQBUFS", V4l2Api.ReqBufs, 0xc0145608);
        Number("VIDIOC_QUERYBUF", V4l2Api.QueryBuf, 0xc0585609);
        Number("VIDIOC_QBUF", V4l2Api.QBuf, 0xc058560f);
        Number("VIDIOC_DQBUF", V4l2Api.DqBuf, 0xc0585611);
        Number("VIDIOC_STREAMON", V4l2Api.StreamOn, 0x40045612);
        Number("VIDIOC_STREAMOFF", V4l2Api.StreamOff, 0x40045613);
        Number("VIDIOC_G_PARM", V4l2Api.GetParm, 0xc0cc5615);
        Number("VIDIOC_S_PARM", V4l2Api.SetParm, 0xc0cc5616);
        Number("VIDIOC_ENUM_FRAMESIZES", V4l2Api.EnumFrameSizes, 0xc02c564a);
        Number("GPIO_GET_CHIPINFO_IOCTL", Gpio.GpioChipResolver.GetChipInfoIoctl, 0x8044b401);
        Number("fourcc YUYV", V4l2Api.Yuyv, 0x56595559);
        return failures;
    }
}
