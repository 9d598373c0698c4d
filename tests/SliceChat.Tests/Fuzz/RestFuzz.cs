using System.Text;
using System.Text.Json.Nodes;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Fuzz;

public sealed record Field(string Name, FieldKind Kind, bool Nullable);

/// <summary>One route and method of the OpenAPI document, with its path and query parameters and body fields.</summary>
public sealed record Operation(string Method, string Path, List<Field> PathParameters, List<Field> QueryParameters, List<Field>? Body)
{
    public override string ToString() => $"{Method} {Path}";

    /// <summary>Every operation of the app's own OpenAPI document (<c>/openapi/v1.json</c>).</summary>
    public static List<Operation> FromOpenApi(JsonNode document)
    {
        var schemas = document["components"]?["schemas"];
        return [.. document["paths"]!.AsObject().SelectMany(path => path.Value!.AsObject().Select(op =>
        {
            var parameters = op.Value!["parameters"]?.AsArray().Select(p => p!).ToList() ?? [];
            List<Field> In(string location) => [.. parameters.Where(p => p["in"].Text() == location)
                .Select(p => new Field(p["name"].Text(), KindOf(p["name"].Text(), p["schema"]!), Nullable: true))];
            var body = op.Value["requestBody"]?["content"]?["application/json"]?["schema"]?["$ref"]?.GetValue<string>() is { } reference
                ? schemas![reference.Split('/')[^1]]
                : null;
            return new Operation(op.Key.ToUpperInvariant(), path.Key, In("path"), In("query"), body is null ? null : FieldsOf(body));
        }))];
    }

    private static List<Field> FieldsOf(JsonNode schema)
    {
        var required = schema["required"]?.AsArray().Select(r => r.Text()).ToHashSet() ?? [];
        return [.. (schema["properties"]?.AsObject() ?? []).Select(p =>
            new Field(p.Key, KindOf(p.Key, p.Value!), p.Value!["nullable"]?.GetValue<bool>() ?? !required.Contains(p.Key) && p.Value["type"].Text() == "string"))];
    }

    private static FieldKind KindOf(string name, JsonNode schema) => (schema["type"]?.GetValue<string>(), schema["format"]?.GetValue<string>()) switch
    {
        ("string", "guid" or "uuid") => FieldKind.Uuid,
        ("integer", _) => FieldKind.WholeNumber,
        ("boolean", _) => FieldKind.Boolean,
        ("array", _) => FieldKind.UuidArray,
        ("string", _) => FieldKind.Text,
        var other => throw new NotSupportedException($"{name}: no fuzz values for {other}"),
    };
}

/// <summary>A generated request: what it is made of and which input class it tries.</summary>
public sealed record RestCase(int Number, InputClass Class, string Method, string Url, string? Token, byte[]? Body, string? ContentType, bool MustFail)
{
    public override string ToString() =>
        $"#{Number} {Class}: {Method} {(Url.Length > 200 ? Url[..200] + "…" : Url)} body {(Body is null ? "none" : Preview(Body))} ({ContentType})";

    private static string Preview(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body);
        return text.Length > 200 ? text[..200] + $"… ({body.Length} bytes)" : text;
    }

    public HttpRequestMessage ToRequest()
    {
        var request = new HttpRequestMessage(new HttpMethod(Method), Url);
        if (Body is not null)
        {
            request.Content = new ByteArrayContent(Body);
            if (ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
            }
        }
        if (Token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", Token);
        }
        return request;
    }
}

/// <summary>
/// Malformed requests for every operation: each case breaks one thing for sure (a field, the document, a route id,
/// a query value, the token), so none of them may store anything. Real ids are used only where the rest of the
/// request is broken or the method only reads, so a case never removes or joins by accident.
/// </summary>
public sealed class RestFuzz(Fuzzer fuzz, string token, IReadOnlyList<Guid> realIds)
{
    private int number;

    // No "%00": Kestrel refuses it in a path before the app sees it, and the test server cannot send it.
    private static readonly string[] BadRouteValues =
        ["not-a-uuid", "0", "%FF%FE", new string('a', 3000), "00000000-0000-0000-0000-00000000000g", "..%2F..%2Fusers", "%E2%80%AE", "-1"];

    private static readonly string[] BadIntegers =
        ["-1", "0", "99999999999999999999", "2147483648", "-2147483649", "9223372036854775807", "abc", "1.5", "", "1e3", "%201", "%00", "0x10", "%FF"];

    private static readonly string[] BadTexts =
        [new string('q', 4000), "%00", "%FF%FE", "%E2%80%AE", "%1B%5B31m", "%25%25", "*", "%5C%22"];

    private static readonly string[] BadTokens =
        ["Bearer garbage", "Bearer a.b.c", "Bearer " + new string('x', 8000), "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "Basic dXNlcjpwYXNz", "Bearer", "Bearer \u00e9"];

    private static readonly string[] WrongContentTypes =
        ["text/plain", "application/xml", "application/json; charset=utf-16", "application/json; charset=nonsense", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"];

    public IEnumerable<RestCase> CasesFor(Operation op, int count)
    {
        yield return WithToken(op, Pick(BadTokens));
        // A POST or DELETE with no input at all (logout) is fuzzed only through its token: anything else would just do it.
        if (op.Method != "GET" && op.Body is null && op.PathParameters.Count == 0)
        {
            yield break;
        }
        for (var i = 0; i < count; i++)
        {
            yield return Generate(op);
        }
    }

    private T Pick<T>(IReadOnlyList<T> items) => fuzz.Pick(items);

    private RestCase WithToken(Operation op, string badToken) =>
        new(++number, InputClass.MalformedToken, op.Method, Fill(op, realIdsAllowed: false, out _), badToken, null, null, MustFail: true);

    private RestCase Generate(Operation op)
    {
        // Reads may use real ids; writes only when their body is broken for sure.
        var realIdsAllowed = op.Method == "GET" || op.Body is not null;
        var url = Fill(op, realIdsAllowed, out var badRoute);
        InputClass? chosen = badRoute ? InputClass.RouteId : null;
        if (op.QueryParameters.Count > 0 && (chosen is null && op.Body is null || fuzz.Chance(0.3)))
        {
            url += Query(op);
            chosen ??= InputClass.PagingValue;
        }
        byte[]? body = null;
        string? contentType = "application/json";
        if (op.Body is { } fields)
        {
            var (bodyClass, bytes) = fuzz.Chance(0.7) ? MutatedField(fields) : fuzz.MalformedDocument(Fuzzer.ObjectOf(Base(fields)));
            body = bytes;
            chosen = bodyClass;
            if (fuzz.Chance(0.15))
            {
                contentType = Pick(WrongContentTypes);
                chosen = InputClass.WrongContentType;
            }
        }
        else if (op.Method != "GET" || fuzz.Chance(0.3))
        {
            // A body where none belongs: it must not change what the route does (a bad route id or query already fails it).
            var (bodyClass, bytes) = fuzz.MalformedDocument(Fuzzer.Json(new { content = "stray" }));
            body = bytes;
            chosen ??= bodyClass;
        }
        // A read may ignore a body it takes no input from; anything else must refuse a case.
        return new RestCase(++number, chosen ?? InputClass.PagingValue, op.Method, url, token, body, contentType, MustFail: op.Method != "GET");
    }

    /// <summary>The path with a value for each parameter: a real id, a random UUID, or something that is not an id.</summary>
    private string Fill(Operation op, bool realIdsAllowed, out bool bad)
    {
        var path = op.Path;
        bad = false;
        foreach (var parameter in op.PathParameters)
        {
            var roll = fuzz.Next(10);
            string value;
            if (roll < 3 || !realIdsAllowed && roll < 6)
            {
                value = Pick(BadRouteValues);
                bad = true;
            }
            else
            {
                value = (realIdsAllowed && roll >= 5 ? Pick(realIds) : Guid.CreateVersion7()).ToString();
            }
            path = path.Replace("{" + parameter.Name + "}", value, StringComparison.Ordinal);
        }
        return path;
    }

    private string Query(Operation op)
    {
        var parts = op.QueryParameters.Select(p => $"{p.Name}={Pick(p.Kind switch
        {
            FieldKind.WholeNumber => BadIntegers,
            FieldKind.Uuid => BadRouteValues,
            _ => BadTexts,
        })}").ToList();
        if (fuzz.Chance(0.3))
        {
            parts.Add($"{Pick(op.QueryParameters).Name}=1"); // the parameter twice
        }
        if (fuzz.Chance(0.3))
        {
            parts.Add("zz_unknown=1");
        }
        return "?" + string.Join('&', parts.OrderBy(_ => fuzz.Next(100)));
    }

    private List<(string Name, byte[] Value)> Base(List<Field> fields) => [.. fields.Select(f => (f.Name, f.Kind switch
    {
        FieldKind.Uuid => Fuzzer.Json(fuzz.Chance(0.5) ? Pick(realIds) : Guid.CreateVersion7()),
        FieldKind.WholeNumber => Fuzzer.Json(1),
        FieldKind.Boolean => Fuzzer.Json(false),
        FieldKind.UuidArray => Fuzzer.Json(Array.Empty<Guid>()),
        _ => Fuzzer.Json($"fuzz{fuzz.Next(10_000):D4}"),
    }))];

    /// <summary>The body with one field broken for sure, and sometimes fields no schema knows.</summary>
    private (InputClass, byte[]) MutatedField(List<Field> fields)
    {
        var body = Base(fields);
        var target = fuzz.Next(fields.Count);
        var (chosen, value) = fuzz.InvalidValue(fields[target].Kind, fields[target].Nullable);
        body[target] = (fields[target].Name, value);
        if (fuzz.Chance(0.5))
        {
            body.AddRange(fuzz.UnknownFields());
        }
        return (chosen, Fuzzer.ObjectOf(body.OrderBy(_ => fuzz.Next(100))));
    }
}
