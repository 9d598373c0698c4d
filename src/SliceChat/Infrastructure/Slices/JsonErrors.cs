using System.Text.Json;
using System.Text.RegularExpressions;

namespace SliceChat.Infrastructure.Slices;

/// <summary>
/// What a client learns from JSON it sent that could not be read: at most the top-level field that failed,
/// never the parser's text (.NET type names, token types, byte positions).
/// </summary>
public static partial class JsonErrors
{
    /// <summary>"$.member_ids[0]" -> "member_ids"; null when the failure is not inside a field ("$", a syntax error at the top).</summary>
    public static string? FieldOf(JsonException exception) =>
        exception.Path is { } path && TopLevelField().Match(path) is { Success: true } match ? match.Groups[1].Value : null;

    /// <summary>"limit must be an integer." for a route or query value that does not parse as its type.</summary>
    public static string NotA(Type type, string field) => $"{field} must be {Describe(Nullable.GetUnderlyingType(type) ?? type)}.";

    private static string Describe(Type type) =>
        type == typeof(Guid) ? "a UUID"
        : type == typeof(int) || type == typeof(long) ? "an integer"
        : "a valid value";

    [GeneratedRegex(@"^\$\.([A-Za-z0-9_]+)")]
    private static partial Regex TopLevelField();
}
