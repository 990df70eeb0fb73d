using System.Globalization;
using System.Text;

namespace EdgeMobileNet.Format.Io;

/// <summary>Builds the one-line messages of <see cref="ModelFormatException"/>: "source: location: problem".</summary>
internal static class EmnErrors
{
    private const int MaxQuotedChars = 80;

    public static ModelFormatException At(string source, string location, string problem) =>
        new($"{source}: {location}: {problem}");

    /// <summary>
    /// Quotes a name from a (possibly hostile) file for a message: single quotes, control and line
    /// separator characters escaped so the message stays on one line, long names shortened.
    /// </summary>
    public static string Quote(string? text)
    {
        if (text is null) return "<null>";
        var builder = new StringBuilder(Math.Min(text.Length, MaxQuotedChars) + 8);
        builder.Append('\'');
        for (int i = 0; i < text.Length; i++)
        {
            if (i == MaxQuotedChars)
            {
                builder.Append("...");
                break;
            }
            AppendEscaped(builder, text[i]);
        }
        return builder.Append('\'').ToString();
    }

    private static void AppendEscaped(StringBuilder builder, char c)
    {
        UnicodeCategory category = char.GetUnicodeCategory(c);
        if (category is UnicodeCategory.Control or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
            or UnicodeCategory.Format)
            builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
        else
            builder.Append(c);
    }

    public static string Hex(uint value) => $"0x{value:X8}";
}
