using System.Text.Json;
using FastEndpoints;
using FastEndpoints.Swagger;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Net.Http.Headers;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Operations;
using SliceChat.Infrastructure.Persistence;

namespace SliceChat.Infrastructure.Slices;

/// <summary>FastEndpoints configured for the contract: snake_case JSON, its validation-problem shape, problem details for every error, OpenAPI.</summary>
public static class SliceServices
{
    public const string DocumentPath = "/openapi/{documentName}.json";
    public const string DocsPath = "/docs";

    public static readonly JsonSerializerOptions JsonOptions = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        // As ASP.NET Core writes HTTP bodies: "+00:00" and "'" stay as they are in socket frames too.
        options.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        options.DictionaryKeyPolicy = null;
        options.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        return options;
    }

    public static IServiceCollection AddSlices(this IServiceCollection services)
    {
        services.AddFastEndpoints();
        // TypedResults (problems among them) and health responses are written with these options.
        services.Configure<JsonOptions>(o => Configure(o.SerializerOptions));
        services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Detail ??= DefaultDetail(context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode);
            context.ProblemDetails.Extensions.Remove("traceId"); // ASP.NET Core's, as an Activity id: ours is the log lines' trace id
            context.ProblemDetails.Extensions["trace_id"] = Problems.TraceId(context.HttpContext);
        });
        services.AddExceptionHandler<UnexpectedExceptionHandler>();
        services.SwaggerDocument(o =>
        {
            o.EnableJWTBearerAuth = false;
            // Requests bound only from the route and claims show no body schema; tags are set per area in MapSlices.
            o.RemoveEmptyRequestSchema = true;
            o.DocumentSettings = s =>
            {
                s.DocumentName = "v1";
                s.Title = "SliceChat API";
                s.Version = "v1";
                s.Description = Realtime.SocketProtocolDoc.Markdown;
                s.SchemaSettings.SchemaNameGenerator = new SchemaNames();
                // OAuth2 password flow on the login route, so the docs page can authorize its requests.
                s.AddAuth("oauth2", new NSwag.OpenApiSecurityScheme
                {
                    Type = NSwag.OpenApiSecuritySchemeType.OAuth2,
                    Flows = new NSwag.OpenApiOAuthFlows { Password = new NSwag.OpenApiOAuthFlow { TokenUrl = Features.ApiRoutes.Login } },
                });
            };
        });
        return services;
    }

    /// <summary>The detail of problems nobody wrote one for (status-code pages, authentication challenges).</summary>
    internal static string DefaultDetail(int status) => status switch
    {
        StatusCodes.Status400BadRequest => "The request could not be read.",
        StatusCodes.Status401Unauthorized => "A valid bearer token is required (missing, invalid, expired or revoked).",
        StatusCodes.Status403Forbidden => "You may not do this.",
        StatusCodes.Status404NotFound => "No such resource.",
        StatusCodes.Status405MethodNotAllowed => "The method is not allowed on this resource.",
        StatusCodes.Status413PayloadTooLarge => "The request body is too large.",
        StatusCodes.Status415UnsupportedMediaType => "Send the body as application/json.",
        _ => "The request failed.",
    };

    private static bool HasBody(HttpRequest request) =>
        request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0;

    /// <summary>
    /// A JSON body in UTF-8 (the default), checked whole first: the reader does not look at the bytes of a property name
    /// it skips, so <c>{"content":"x","\xFF":1}</c> would pass. Another charset is transcoded; one .NET does not
    /// know (<c>charset=nonsense</c>, which ReadFromJsonAsync throws on) answers 415.
    /// </summary>
    private static async ValueTask<object?> ReadJsonAsync(HttpRequest request, Type type, JsonSerializerOptions options, CancellationToken ct)
    {
        if (MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType) && mediaType.Charset.Length > 0 && mediaType.Encoding is not System.Text.UTF8Encoding)
        {
            return mediaType.Encoding is null
                ? throw new BadHttpRequestException("Unknown charset.", StatusCodes.Status415UnsupportedMediaType)
                : await request.ReadFromJsonAsync(type, options, ct);
        }
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, ct);
        var bytes = body.GetBuffer().AsSpan(0, (int)body.Length);
        return System.Text.Unicode.Utf8.IsValid(bytes)
            ? JsonSerializer.Deserialize(bytes, type, options)
            : throw new JsonException("The body is not UTF-8.");
    }

    /// <summary>"SliceChat.Features.Auth.Login" -> "Auth.Login"; "SliceChat.Infrastructure.Conversations" -> "Conversations".</summary>
    internal static string SliceName(Type type) => type.Namespace!
        .Replace("SliceChat.Features.", "", StringComparison.Ordinal)
        .Replace("SliceChat.Infrastructure.", "", StringComparison.Ordinal);

    public static WebApplication UseSlices(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>Every slice (FastEndpoints finds them), the OpenAPI document and the docs page.</summary>
    public static WebApplication MapSlices(this WebApplication app)
    {
        // FastEndpoints answers a request without Content-Type to a route that takes a JSON body with a bare 415 it has
        // already started (so status-code pages cannot add a body): answer it as problem details first.
        app.Use((context, next) => !context.Request.Headers.ContainsKey(HeaderNames.ContentType)
            && context.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>() is { IsOptional: false, ContentTypes.Count: > 0 } accepts
            && !accepts.ContentTypes.Contains("*/*")
                ? TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                    detail: DefaultDetail(StatusCodes.Status415UnsupportedMediaType)).ExecuteAsync(context)
                : next(context));
        app.UseFastEndpoints(c =>
        {
            Configure(c.Serializer.Options);
            // A request that says JSON but has no body (a GET from some clients) binds as an empty request, as
            // minimal APIs did, instead of failing to parse nothing.
            c.Serializer.RequestDeserializer = (request, type, context, ct) => request.ContentLength == 0 || !HasBody(request)
                ? ValueTask.FromResult<object?>(null)
                : ReadJsonAsync(request, type, context?.Options ?? c.Serializer.Options, ct);
            // Route and query values bind by their snake_case names (before_seq, user_id).
            c.Binding.UsePropertyNamingPolicy = true;
            // Failures name the field at most: never the parser's text, .NET type names or byte positions.
            c.Binding.FailureMessage = (type, field, _) => JsonErrors.NotA(type, field);
            c.Binding.JsonExceptionTransformer = e => JsonErrors.FieldOf(e) is { } field
                ? new FluentValidation.Results.ValidationFailure(field, $"{field} is not of the expected JSON type.")
                : new FluentValidation.Results.ValidationFailure(Problems.BodyField, "The body is not valid JSON of the expected shape.");
            c.Errors.ProducesMetadataType = typeof(Microsoft.AspNetCore.Http.HttpValidationProblemDetails);
            c.Errors.ResponseBuilder = (failures, context, status) => Problems.ValidationBody(failures, context, status);
            // "Auth.Login" -> "AuthLogin"; aliases get the route's number.
            c.Endpoints.NameGenerator = ctx => SliceName(ctx.EndpointType).Replace(".", "", StringComparison.Ordinal)
                + (ctx.RouteNumber is > 0 ? ctx.RouteNumber.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : "");
            // The OpenAPI tag is the slice's area (Auth, Chatrooms, ...), not a path segment; every slice needs the
            // database, so every operation lists the 503 the exception handler answers while it is unreachable.
            c.Endpoints.Configurator = endpoint => endpoint.Options(b => b.AutoTagOverride(SliceName(endpoint.EndpointType).Split('.')[0])
                .ProducesProblem(StatusCodes.Status503ServiceUnavailable));
        });
        // Only on their own paths: a middleware that passes a request on stays in its call chain, and a
        // socket's request lasts for hours (these three held about a kilobyte of every idle socket).
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/openapi") || context.Request.Path.StartsWithSegments(DocsPath), docs =>
        {
            docs.UseOpenApi(o => o.Path = DocumentPath);
            docs.UseSwaggerUi(o =>
            {
                o.Path = DocsPath;
                o.DocumentPath = DocumentPath;
                o.DocumentTitle = "SliceChat API";
                o.OAuth2Client = new NSwag.AspNetCore.OAuth2ClientSettings { ClientId = "docs", AppName = "SliceChat docs" };
            });
        });
        app.MapGet("/swagger", () => Results.Redirect(DocsPath)).ExcludeFromDescription();
        return app;
    }
}

/// <summary>
/// OpenAPI schema ids qualified by the slice ("AuthLoginRequest", "ConversationsMessageResponse"), since every slice
/// has a Request. No dots: NJsonSchema keeps only the last dotted part of a name.
/// </summary>
internal sealed class SchemaNames : NJsonSchema.Generation.ISchemaNameGenerator
{
    private readonly NJsonSchema.Generation.DefaultSchemaNameGenerator fallback = new();

    public string Generate(Type type) => type.Namespace?.StartsWith("SliceChat.", StringComparison.Ordinal) == true && !type.IsGenericType
        ? SliceServices.SliceName(type).Replace(".", "", StringComparison.Ordinal) + type.Name
        : fallback.Generate(type);
}

/// <summary>
/// Turns the unexpected into problem details; a request Kestrel rejected keeps its own status (e.g. 413), and
/// an unreachable database answers 503 with <c>Retry-After</c> (<c>Limits:UnavailableRetryAfterSeconds</c>).
/// </summary>
internal sealed partial class UnexpectedExceptionHandler(IProblemDetailsService problems, IOptions<LimitsOptions> limits, AppMetrics metrics,
    ILogger<UnexpectedExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var retryAfter = limits.Value.UnavailableRetryAfterSeconds;
        var (status, title, detail) = exception switch
        {
            // Kestrel's own text stays in the log.
            BadHttpRequestException bad => (bad.StatusCode, bad.StatusCode switch
            {
                StatusCodes.Status413PayloadTooLarge => "Payload too large",
                StatusCodes.Status415UnsupportedMediaType => "Unsupported media type",
                _ => "Bad request",
            }, SliceServices.DefaultDetail(bad.StatusCode)),
            _ when DbErrors.IsUnavailable(exception) => (StatusCodes.Status503ServiceUnavailable, "Service unavailable",
                $"The database is unreachable; retry after {retryAfter} s."),
            _ => (StatusCodes.Status500InternalServerError, "Internal server error", "An unexpected error occurred."),
        };
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            metrics.DatabaseUnavailable(UnavailablePaths.Http);
            LogUnavailable(logger, context.Request.Method, context.Request.Path, exception.Message);
            context.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        else if (status >= 500)
        {
            LogUnexpected(logger, exception, context.Request.Method, context.Request.Path);
        }
        context.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }

    [LoggerMessage(LogLevel.Error, "Unhandled exception on {Method} {Path}")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(LogLevel.Warning, "{Method} {Path} answered 503: the database is unreachable ({Reason})")]
    private static partial void LogUnavailable(ILogger logger, string method, string path, string reason);
}
