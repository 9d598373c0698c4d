using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SliceChat.Tests.Fuzz;

/// <summary>What a generated case does wrong; the report counts cases per class.</summary>
public enum InputClass
{
    WrongType,
    Null,
    HugeNumber,
    NegativeNumber,
    Fraction,
    DeepNesting,
    OverlongString,
    ControlCharacters,
    InvalidUtf8,
    NotUuid,
    UnknownType,
    NotJson,
    WrongTopLevel,
    Truncated,
    WrongContentType,
    MalformedToken,
    RouteId,
    PagingValue,
    BinaryFrame,
}

/// <summary>The JSON shape a field expects, from the OpenAPI schema (REST) or the frame type's property (socket).</summary>
public enum FieldKind
{
    Text,
    Uuid,
    WholeNumber,
    Boolean,
    UuidArray,
}

/// <summary>
/// Malformed input from one seeded <see cref="Random"/>: the same seed gives the same cases, so a failure replays
/// with <c>SLICECHAT_FUZZ_SEED=&lt;seed&gt;</c>; <c>SLICECHAT_FUZZ_CASES</c> sets the cases per route or frame type.
/// Values are raw JSON bytes, so they can be what no serializer writes (invalid UTF-8, thousands of levels of nesting);
/// <c>overlongChars</c> and <c>maxDepth</c> keep them within the body or frame limit, which is a test of its own.
/// </summary>
public sealed class Fuzzer(int seed, int overlongChars, int maxDepth)
{
    public const int DefaultSeed = 9;

    private readonly Random random = new(seed);

    public int Seed => seed;

    public static int SeedFromEnvironment() =>
        int.TryParse(Environment.GetEnvironmentVariable("SLICECHAT_FUZZ_SEED"), CultureInfo.InvariantCulture, out var value) ? value : DefaultSeed;

    public static int CasesPerTarget =>
        int.TryParse(Environment.GetEnvironmentVariable("SLICECHAT_FUZZ_CASES"), CultureInfo.InvariantCulture, out var value) ? value : 40;

    public T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

    public bool Chance(double probability) => random.NextDouble() < probability;

    public int Next(int max) => random.Next(max);

    private static readonly JsonSerializerOptions Unescaped = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A value as JSON, with non-ASCII text as UTF-8 (not \u escapes), as clients send it.</summary>
    public static byte[] Json(object? value) => JsonSerializer.SerializeToUtf8Bytes(value, Unescaped);

    private static byte[] Raw(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Quoted(params byte[][] parts) => [(byte)'"', .. parts.SelectMany(p => p), (byte)'"'];

    /// <summary>A value <paramref name="kind"/> does not accept, and the class it belongs to.</summary>
    public (InputClass Class, byte[] Value) InvalidValue(FieldKind kind, bool nullable)
    {
        List<InputClass> classes = [InputClass.WrongType, InputClass.DeepNesting, InputClass.HugeNumber];
        if (!nullable)
        {
            classes.Add(InputClass.Null);
        }
        classes.AddRange(kind switch
        {
            FieldKind.WholeNumber => [InputClass.NegativeNumber, InputClass.Fraction],
            FieldKind.Uuid or FieldKind.UuidArray => [InputClass.NotUuid, InputClass.InvalidUtf8],
            FieldKind.Text => [InputClass.OverlongString, InputClass.ControlCharacters, InputClass.InvalidUtf8],
            _ => [],
        });
        var chosen = Pick(classes);
        return (chosen, ValueOf(chosen, kind));
    }

    private byte[] ValueOf(InputClass chosen, FieldKind kind) => chosen switch
    {
        InputClass.Null => Raw("null"),
        InputClass.WrongType => Pick(WrongTypes(kind)),
        InputClass.DeepNesting => DeepNesting(),
        InputClass.HugeNumber => Raw(Pick(["1e400", "-1e400", "99999999999999999999999999999", "9223372036854775808", "-9223372036854775809", "1" + new string('0', 5000)])),
        InputClass.NegativeNumber => Raw(Pick(["-1", "-9223372036854775808", "-2147483649"])),
        InputClass.Fraction => Raw(Pick(["1.5", "1e2", "0.0000001", "-0.0"])), // not "-0": that is the integer 0 in JSON
        InputClass.NotUuid => kind == FieldKind.UuidArray ? Raw($"[{Encoding.UTF8.GetString(Json(Pick(NotUuids)))}]") : Json(Pick(NotUuids)),
        InputClass.OverlongString => Json(Pick([new string('x', overlongChars), string.Concat(Enumerable.Repeat("é", overlongChars / 2)), new string(' ', overlongChars)])),
        InputClass.ControlCharacters => Chance(0.5)
            ? Json(Pick(["nul \0 inside", "\u0007bell", "\u001b[31mred", "\u007f\u0001"]))
            : Quoted(Raw("raw "), [0x01], Raw(" control")), // not even JSON: control characters must be escaped
        InputClass.InvalidUtf8 => InvalidUtf8String(),
        _ => throw new ArgumentOutOfRangeException(nameof(chosen), chosen, null),
    };

    private static readonly string[] NotUuids =
        ["not-a-uuid", "", "0", "00000000-0000-0000-0000-00000000000g", "00000000000000000000000000000000000", "me", "../../etc/passwd", "' OR 1=1 --"];

    public static byte[][] WrongTypes(FieldKind kind) => kind switch
    {
        FieldKind.WholeNumber => [Raw("\"1\""), Raw("true"), Raw("{}"), Raw("[1]")],
        FieldKind.Boolean => [Raw("\"yes\""), Raw("1"), Raw("{}"), Raw("[]")],
        FieldKind.UuidArray => [Raw("\"00000000-0000-0000-0000-000000000000\""), Raw("5"), Raw("{}"), Raw("[[]]"), Raw("[null]"), Raw("[1]")],
        _ => [Raw("5"), Raw("true"), Raw("{\"a\":1}"), Raw("[\"x\"]"), Raw("-0.5")],
    };

    /// <summary>Arrays or objects nested past the serializer's depth limit (64) and far past it (5 bytes a level at most).</summary>
    public byte[] DeepNesting()
    {
        var depth = Pick([65, 1000, maxDepth]);
        return Chance(0.5)
            ? Raw(new string('[', depth) + "1" + new string(']', depth))
            : Raw(string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth));
    }

    /// <summary>A JSON string whose bytes are not UTF-8 (or whose escape is a lone surrogate).</summary>
    public byte[] InvalidUtf8String() => Pick<byte[]>(
    [
        Quoted(Raw("a"), [0xFF, 0xFE], Raw("b")),
        Quoted(Raw("cut "), [0xC3]),
        Quoted([0xC0, 0xAF]), // overlong "/"
        Quoted([0xED, 0xA0, 0x80]), // an encoded surrogate
        Quoted([0xF4, 0x90, 0x80, 0x80]), // past U+10FFFF
        Raw("\"\\uD800 lone\""),
    ]);

    /// <summary>Bodies and frames that are not one JSON object: not JSON, another JSON value, cut off, not UTF-8.</summary>
    public (InputClass Class, byte[] Body) MalformedDocument(byte[] valid)
    {
        var chosen = Pick([InputClass.NotJson, InputClass.WrongTopLevel, InputClass.Truncated, InputClass.InvalidUtf8, InputClass.DeepNesting]);
        byte[] body = chosen switch
        {
            InputClass.NotJson => Pick<byte[]>([Raw("garbage"), Raw("{"), Raw("{'type':'ping'}"), Raw("{\"a\":1,}"), Raw("{\"a\" 1}"), [0], RandomBytes()]),
            InputClass.WrongTopLevel => Raw(Pick(["[]", "[{}]", "5", "\"text\"", "true", "1e400"])),
            InputClass.Truncated => valid[..Math.Max(1, Next(valid.Length))],
            // Anywhere, or in the name of a field nobody reads (which the reader skips without looking at its bytes).
            InputClass.InvalidUtf8 => Chance(0.5)
                ? [.. valid.Take(valid.Length / 2), 0xFF, .. valid.Skip(valid.Length / 2)]
                : [.. Raw("{\"a"), 0xFF, .. Raw("\":1,"), .. valid.Skip(1)],
            _ => DeepNesting(),
        };
        return (chosen, body);
    }

    public byte[] RandomBytes()
    {
        var bytes = new byte[1 + Next(200)];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>1-3 fields no schema knows, with values of any type.</summary>
    public List<(string Name, byte[] Value)> UnknownFields() =>
        [.. Enumerable.Range(0, 1 + Next(3)).Select(i => ($"zz_unknown_{Next(1000)}_{i}", Pick<byte[]>([Raw("1"), Raw("\"x\""), Raw("{\"nested\":[1,2]}"), Raw("null"), Raw("[true]")])))];

    /// <summary>An object of these raw fields, in order (a field may appear twice).</summary>
    public static byte[] ObjectOf(IEnumerable<(string Name, byte[] Value)> fields)
    {
        var buffer = new List<byte> { (byte)'{' };
        foreach (var (name, value) in fields)
        {
            if (buffer.Count > 1)
            {
                buffer.Add((byte)',');
            }
            buffer.AddRange(Json(name));
            buffer.Add((byte)':');
            buffer.AddRange(value);
        }
        buffer.Add((byte)'}');
        return [.. buffer];
    }
}
