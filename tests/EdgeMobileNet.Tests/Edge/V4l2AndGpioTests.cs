using System.Runtime.InteropServices;
using EdgeMobileNet.Edge.Frames;
using EdgeMobileNet.Edge.Gpio;
using EdgeMobileNet.Edge.Rules;
using EdgeMobileNet.Edge.V4l2;
using Xunit;

namespace EdgeMobileNet.Tests.Edge;

public class V4l2LayoutTests
{
    [Fact]
    public void StructLayoutsAndIoctlNumbersMatchThe64BitAbi()
    {
        // Same check as 'edgemobilenet selftest' runs in the arm64 binary under QEMU.
        Assert.Empty(V4l2Layout.Check());
    }

    [Fact]
    public unsafe void KeySizesAndOffsets()
    {
        Assert.Equal(88, sizeof(V4l2Buffer));
        Assert.Equal(208, sizeof(V4l2Format));
        Assert.Equal(8, (int)Marshal.OffsetOf<V4l2Format>(nameof(V4l2Format.Pix)));
        Assert.Equal(24, (int)Marshal.OffsetOf<V4l2Buffer>(nameof(V4l2Buffer.TimestampSec)));
        Assert.Equal(64, (int)Marshal.OffsetOf<V4l2Buffer>(nameof(V4l2Buffer.Offset)));
        Assert.Equal(204, sizeof(V4l2StreamParm));
        Assert.Equal(0xc0585611u, V4l2Api.DqBuf);
        Assert.Equal(0xc0d05605u, V4l2Api.SetFmt);
    }

    [Fact]
    public void IocEncodesDirectionSizeTypeAndNumber()
    {
        Assert.Equal(0x80685600u, Ioc.Read('V', 0, 104));
        Assert.Equal(0x40045612u, Ioc.WriteOnly('V', 18, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ioc.Make(3, 'V', 1, 1 << 14));
        Assert.Equal("YUYV", V4l2Api.FourCcText(V4l2Api.Yuyv));
    }

    [Fact]
    public void MissingCameraIsAClearUnavailableError()
    {
        var e = Assert.Throws<FrameSourceUnavailableException>(() =>
            new V4l2FrameSource("/dev/video-does-not-exist", PixelFormat.Yuyv, 640, 480, 30, 4, YuvRange.Limited));
        Assert.Contains("no such camera device", e.Message);
    }
}

public class GpioTests
{
    private static RuleDefinition Rule(string name, int line, bool activeLow = false, bool safeOn = false) =>
        new(name, [0], 0.5f, 0.5f, 1, 1, 1, RuleMode.WhileSeen, 0, 0, "auto", line, activeLow, safeOn);

    [Fact]
    public void SimulatedOutputsStartSafeApplyActiveLowAndRecordOnlyChanges()
    {
        double now = 0;
        var sim = new SimulatedGpio { Clock = () => now };
        using var outputs = new GpioOutputs(sim, [Rule("led", 17), Rule("relay", 27, activeLow: true), Rule("fan", 22, safeOn: true)]);
        now = 10;
        outputs.Set(0, true);
        outputs.Set(0, true);   // no change, not recorded
        outputs.Set(1, true);   // active low: level 0
        outputs.Set(2, false);
        now = 20;
        Assert.Null(outputs.AllSafe());
        Assert.Equal(
        [
            new GpioTransition(0, "auto", 17, false), new GpioTransition(0, "auto", 27, true), new GpioTransition(0, "auto", 22, true),
            new GpioTransition(10, "auto", 17, true), new GpioTransition(10, "auto", 27, false), new GpioTransition(10, "auto", 22, false),
            new GpioTransition(20, "auto", 17, false), new GpioTransition(20, "auto", 27, true), new GpioTransition(20, "auto", 22, true),
        ], sim.Snapshot());
    }

    [Fact]
    public void ChipResolutionByLabelNumberOrName()
    {
        (int, string)[] pi5Old = [(0, "gpio-brcmstb@107d508500"), (1, "gpio-brcmstb@107d508520"), (4, "pinctrl-rp1")];
        (int, string)[] pi5New = [(0, "pinctrl-rp1"), (10, "gpio-brcmstb@107d508500")];
        (int, string)[] pi4 = [(0, "pinctrl-bcm2711"), (1, "raspberrypi-exp-gpio")];
        (int, string)[] pi3 = [(0, "pinctrl-bcm2835"), (1, "raspberrypi-exp-gpio")];
        Assert.Equal(4, GpioChipResolver.Resolve("auto", pi5Old));
        Assert.Equal(0, GpioChipResolver.Resolve("auto", pi5New));
        Assert.Equal(0, GpioChipResolver.Resolve("auto", pi4));
        Assert.Equal(0, GpioChipResolver.Resolve("auto", pi3));
        Assert.Equal(1, GpioChipResolver.Resolve("raspberrypi-exp-gpio", pi4));
        Assert.Equal(3, GpioChipResolver.Resolve("gpiochip3", pi4));
        Assert.Equal(2, GpioChipResolver.Resolve("2", pi4));
        var e = Assert.Throws<IOException>(() => GpioChipResolver.Resolve("auto", [(0, "gpio-mockup-A")]));
        Assert.Contains("pinctrl-rp1", e.Message);
        Assert.Contains("gpiochip0=gpio-mockup-A", e.Message);
    }
}
