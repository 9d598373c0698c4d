using System.Text.Json;
using FluentValidation.Results;
using Microsoft.AspNetCore.Http.HttpResults;

namespace SliceChat.Infrastructure.Slices;

/// <summary>
/// The contract's problem details. Expected failures are values handlers return; the validation shape
/// (<c>errors: {field: [messages]}</c> keyed in snake_case) is also what FastEndpoints answers for failed validators.
/// </summary>
public static class Problems
{
    /// <summary>The error key of a body that could not be read at all.</summary>
    public const string BodyField = "body";

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: detail);

    public static ProblemHttpResult ChatroomNotFound() => NotFound("No such chatroom.");

    public static ProblemHttpResult Forbidden(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: detail);

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict", detail: detail);

    public static ProblemHttpResult Unauthorized(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: detail);

    public static ProblemHttpResult BadRequest(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad request", detail: detail);

    public static ValidationProblem Invalid(string field, string message) =>
        Invalid(new Dictionary<string, string[]> { [field] = [message] });

    public static ValidationProblem Invalid(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: ValidationTitle, detail: ValidationDetail(errors.Keys));

    /// <summary>429 with a Retry-After header in whole seconds.</summary>
    public static ProblemHttpResult TooManyRequests(HttpContext context, TimeSpan retryAfter, string? reason = null)
    {
        var seconds = RetryAfter(context, retryAfter);
        return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests",
            detail: $"{reason ?? "Rate limit reached"}; retry after {seconds} s.");
    }

    /// <summary>503 with a Retry-After header in whole seconds: the instance cannot take the work now.</summary>
    public static ProblemHttpResult Unavailable(HttpContext context, TimeSpan retryAfter, string reason)
    {
        var seconds = RetryAfter(context, retryAfter);
        return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable",
            detail: $"{reason}; retry after {seconds} s.");
    }

    private static int RetryAfter(HttpContext context, TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return seconds;
    }

    /// <summary>FastEndpoints' error response: the same body <see cref="Invalid(IDictionary{string, string[]})"/> writes.</summary>
    public static HttpValidationProblemDetails ValidationBody(List<ValidationFailure> failures, HttpContext context, int status)
    {
        var errors = failures
            .GroupBy(f => SnakeCase(f.PropertyName))
            .ToDictionary(g => g.Key, g => g.Select(f => f.ErrorMessage).Distinct().ToArray());
        return new HttpValidationProblemDetails(errors)
        {
            Status = status,
            Type = "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            Title = ValidationTitle,
            Detail = ValidationDetail(errors.Keys),
            Extensions = { ["trace_id"] = TraceId(context) },
        };
    }

    /// <summary>
    /// The request's trace id (W3C, from the caller's <c>traceparent</c> when it sent one), as every log line written
    /// while serving the request carries it (the <c>TraceId</c> of its scope); the request id without an activity.
    /// </summary>
    public static string TraceId(HttpContext context) => System.Diagnostics.Activity.Current?.TraceId.ToHexString() ?? context.TraceIdentifier;

    /// <summary>"Items[0].ChatroomId" becomes "items[0].chatroom_id".</summary>
    public static string SnakeCase(string propertyPath) =>
        string.Join('.', propertyPath.Split('.').Select(JsonNamingPolicy.SnakeCaseLower.ConvertName));

    private const string ValidationTitle = "One or more validation errors occurred.";

    private static string ValidationDetail(IEnumerable<string> fields) => $"Invalid {string.Join(", ", fields)}; see errors.";
}
