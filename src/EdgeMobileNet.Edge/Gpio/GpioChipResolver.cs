using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace EdgeMobileNet.Edge.Gpio;

/// <summary>
/// Finds the gpiochip number for a chip name. "auto" picks the chip behind the 40-pin header by its
/// label: "pinctrl-rp1" (Pi 5: gpiochip4 on kernels before 6.6.45, gpiochip0 after), else
/// "pinctrl-bcm2711" (Pi 4) or "pinctrl-bcm2835" (Pi 3, Zero 2). Labels come from the
/// GPIO_GET_CHIPINFO ioctl on /dev/gpiochipN, falling back to /sys/bus/gpio/devices/gpiochipN/label
/// and /sys/class/gpio/gpiochip*/label. "gpiochipN" or "N" selects a chip directly; any other text is
/// matched against the labels.
/// </summary>
public static class GpioChipResolver
{
    public static readonly string[] HeaderLabels = ["pinctrl-rp1", "pinctrl-bcm2711", "pinctrl-bcm2835"];

    public static int Resolve(string chip) => Resolve(chip, ListChips());

    public static int Resolve(string chip, IReadOnlyList<(int Number, string Label)> chips)
    {
        if (chip.StartsWith("gpiochip", StringComparison.Ordinal) && int.TryParse(chip.AsSpan(8), NumberStyles.None, CultureInfo.InvariantCulture, out int n)) return n;
        if (int.TryParse(chip, NumberStyles.None, CultureInfo.InvariantCulture, out n)) return n;
        string[] wanted = chip == "auto" ? HeaderLabels : [chip];
        foreach (string label in wanted)
            foreach (var c in chips)
                if (c.Label == label) return c.Number;
        string seen = chips.Count == 0 ? "no gpiochips found" : string.Join(", ", chips.Select(c => $"gpiochip{c.Number}={c.Label}"));
        throw new IOException(chip == "auto"
            ? $"no GPIO chip labelled {string.Join(" or ", HeaderLabels)} ({seen}); set gpio.chip explicitly"
            : $"no GPIO chip labelled '{chip}' ({seen})");
    }

    public static List<(int Number, string Label)> ListChips()
    {
        var chips = new List<(int, string)>();
        if (!Directory.Exists("/dev")) return chips;
        foreach (string dev in Directory.EnumerateFiles("/dev", "gpiochip*").Order(StringComparer.Ordinal))
        {
            if (!int.TryParse(Path.GetFileName(dev).AsSpan(8), NumberStyles.None, CultureInfo.InvariantCulture, out int n)) continue;
            string? label = LabelFromIoctl(dev) ?? ReadFirstLine($"/sys/bus/gpio/devices/gpiochip{n}/label");
            chips.Add((n, label ?? "?"));
        }
        if (chips.Count == 0 && Directory.Exists("/sys/class/gpio"))
        {
            // Legacy sysfs names chips by base line number, not by character-device number.
            foreach (string dir in Directory.EnumerateDirectories("/sys/class/gpio", "gpiochip*"))
                if (ReadFirstLine(Path.Combine(dir, "label")) is { } label)
                    chips.Add((-1, label));
        }
        return chips;
    }

    private static string? ReadFirstLine(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>struct gpiochip_info { char name[32]; char label[32]; __u32 lines; } = 68 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct GpioChipInfo
    {
        public fixed byte Name[32];
        public fixed byte Label[32];
        public uint Lines;
    }

    /// <summary>GPIO_GET_CHIPINFO_IOCTL = _IOR(0xB4, 0x01, struct gpiochip_info).</summary>
    public static readonly uint GetChipInfoIoctl = V4l2.Ioc.Read(0xB4, 0x01, 68);

    private static unsafe string? LabelFromIoctl(string device)
    {
        int fd = V4l2.Libc.open(device, V4l2.Libc.O_RDONLY | V4l2.Libc.O_CLOEXEC);
        if (fd < 0) return null;
        try
        {
            GpioChipInfo info;
            if (V4l2.Libc.ioctl(fd, GetChipInfoIoctl, &info) < 0) return null;
            var span = new ReadOnlySpan<byte>(info.Label, 32);
            int end = span.IndexOf((byte)0);
            return Encoding.ASCII.GetString(end < 0 ? span : span[..end]);
        }
        finally
        {
            V4l2.Libc.close(fd);
        }
    }
}
