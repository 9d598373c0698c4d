using System.Text;
using System.Text.Unicode;

namespace SliceChat.Infrastructure.Attachments;

/// <summary>
/// Decides an upload's content type from its first bytes (magic numbers), never from the client's header or
/// file name. Only the contract's allow-list is recognised; anything else (HTML, SVG, executables, unknown
/// binaries) is null, which the upload answers with 415.
/// </summary>
public static class ContentSniffer
{
    /// <summary>How many leading bytes the decision looks at.</summary>
    public const int PrefixBytes = 4096;

    public const string Png = "image/png", Jpeg = "image/jpeg", Gif = "image/gif", Webp = "image/webp";

    public static readonly IReadOnlyList<string> Allowed =
        [Png, Jpeg, Gif, Webp, "application/pdf", "text/plain; charset=utf-8", "application/zip", "audio/mpeg", "video/mp4", "video/webm", "audio/ogg"];

    public static bool IsImage(string contentType) => contentType is Png or Jpeg or Gif or Webp;

    public static string? Sniff(ReadOnlySpan<byte> prefix)
    {
        if (prefix.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return Png;
        }
        if (prefix.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return Jpeg;
        }
        if (prefix.StartsWith("GIF87a"u8) || prefix.StartsWith("GIF89a"u8))
        {
            return Gif;
        }
        if (prefix.Length >= 12 && prefix.StartsWith("RIFF"u8) && prefix[8..12].SequenceEqual("WEBP"u8))
        {
            return Webp;
        }
        if (prefix.StartsWith("%PDF-"u8))
        {
            return "application/pdf";
        }
        if (prefix.StartsWith("PK\x03\x04"u8) || prefix.StartsWith("PK\x05\x06"u8))
        {
            return "application/zip";
        }
        if (prefix.StartsWith("ID3"u8) || (prefix.Length >= 2 && prefix[0] == 0xFF && (prefix[1] & 0xE6) is 0xE2))
        {
            return "audio/mpeg"; // an ID3 tag, or an MPEG-1/2 layer III frame header
        }
        if (prefix.Length >= 12 && prefix[4..8].SequenceEqual("ftyp"u8))
        {
            return "video/mp4";
        }
        if (prefix.StartsWith((ReadOnlySpan<byte>)[0x1A, 0x45, 0xDF, 0xA3]) && prefix[..Math.Min(prefix.Length, 64)].IndexOf("webm"u8) >= 0)
        {
            return "video/webm"; // EBML with the WebM doc type (other Matroska files are not on the list)
        }
        if (prefix.StartsWith("OggS"u8))
        {
            return "audio/ogg";
        }
        return IsPlainText(prefix) ? "text/plain; charset=utf-8" : null;
    }

    /// <summary>
    /// UTF-8 (a sequence cut at the prefix's end is fine) without control characters other than tab, line feed,
    /// form feed and carriage return, and not markup a browser would run as HTML, SVG or XML.
    /// </summary>
    private static bool IsPlainText(ReadOnlySpan<byte> prefix)
    {
        var text = prefix;
        if (text.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            text = text[3..];
        }
        var valid = false;
        for (var cut = 0; cut <= Math.Min(3, text.Length) && !valid; cut++)
        {
            if (Utf8.IsValid(text[..^cut]))
            {
                text = text[..^cut];
                valid = true;
            }
        }
        if (!valid)
        {
            return false;
        }
        foreach (var b in text)
        {
            if ((b < 0x20 && b is not (byte)'\t' and not (byte)'\n' and not (byte)'\f' and not (byte)'\r') || b == 0x7F)
            {
                return false;
            }
        }
        var start = Encoding.UTF8.GetString(text[..Math.Min(text.Length, 512)]).TrimStart().ToLowerInvariant();
        string[] markup = ["<!doctype", "<html", "<head", "<body", "<script", "<iframe", "<svg", "<?xml", "<!--", "<style", "<title", "<div", "<a ", "<img", "<table", "<p>", "<p ", "<br", "<h1", "<b>", "<font", "<meta", "<object", "<embed"];
        return !markup.Any(m => start.StartsWith(m, StringComparison.Ordinal));
    }
}
