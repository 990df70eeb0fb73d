using System.Globalization;

namespace EdgeMobileNet.Edge.Runtime;

/// <summary>
/// CPU temperature from /sys/class/thermal/thermal_zone0/temp (millidegrees C) and the firmware's
/// throttling flags from /sys/devices/platform/soc/soc:firmware/get_throttled (hex; the same bits as
/// `vcgencmd get_throttled`: 0x1 under-voltage, 0x2 frequency capped, 0x4 throttled, 0x8 soft
/// temperature limit; bits 16..19 = has occurred since boot). Either may be absent (null).
/// </summary>
public static class SystemHealth
{
    public const string TemperaturePath = "/sys/class/thermal/thermal_zone0/temp";
    public const string ThrottledPath = "/sys/devices/platform/soc/soc:firmware/get_throttled";

    public static (double? CelsiusTemperature, uint? Throttled) Read(string temperaturePath = TemperaturePath, string throttledPath = ThrottledPath)
    {
        double? temp = null;
        uint? throttled = null;
        if (TryRead(temperaturePath) is { } t && long.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out long milli)) temp = milli / 1000.0;
        if (TryRead(throttledPath) is { } s)
        {
            string hex = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? s[2..] : s;
            if (uint.TryParse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint v)) throttled = v;
        }
        return (temp, throttled);
    }

    public static string DescribeThrottled(uint flags)
    {
        if (flags == 0) return "none";
        var parts = new List<string>();
        if ((flags & 0x1) != 0) parts.Add("under-voltage");
        if ((flags & 0x2) != 0) parts.Add("frequency-capped");
        if ((flags & 0x4) != 0) parts.Add("throttled");
        if ((flags & 0x8) != 0) parts.Add("soft-temp-limit");
        if ((flags & 0xF0000) != 0) parts.Add("occurred-since-boot");
        return $"0x{flags:x} ({string.Join(", ", parts)})";
    }

    private static string? TryRead(string path)
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
}
