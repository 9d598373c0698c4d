using System.Text.Json;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using SliceChat.Features.Users;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using SliceChat.Infrastructure.Security;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Auth.Login;

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/auth/login";

    /// <summary>Verified when the user is unknown, so both failures cost one hash verification.</summary>
    private static readonly string UnknownUserHash = new PasswordHasher<User>().HashPassword(
        new User { Username = "", NormalizedUsername = "", PasswordHash = "" }, Guid.NewGuid().ToString());

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapPost(Route, Handle).WithName("Login").WithTags("Auth").AllowAnonymous()
            .Accepts<Request>("application/json", "application/x-www-form-urlencoded")
            .ProducesValidationProblem()
            .WithSummary("Log in with username (or email) and password");

    public static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> Handle(
        HttpContext http, IValidator<Request> validator, ChatDbContext db, IPasswordHasher<User> hasher,
        LoginSessions sessions, RateLimits limits, CancellationToken ct)
    {
        var request = await ReadAsync(http, ct);
        if (request is null)
        {
            return Problems.BadRequest("Send JSON {username, password} or a form username=&password=.");
        }
        var validation = await validator.ValidateAsync(request, ct);
        if (!validation.IsValid)
        {
            return Problems.Invalid(validation);
        }

        var login = UserRules.Normalize(request.Username!);
        if (limits.TryLogin(http.Connection.RemoteIpAddress?.ToString() ?? "unknown", login) is { } retryAfter)
        {
            return Problems.TooManyRequests(http, retryAfter);
        }

        var user = await db.Users.AsNoTracking()
            .Where(u => u.DeletedAt == null && (u.NormalizedUsername == login || u.NormalizedEmail == login))
            .FirstOrDefaultAsync(ct);
        var verified = hasher.VerifyHashedPassword(user ?? new User { Username = "", NormalizedUsername = "", PasswordHash = "" },
            user?.PasswordHash ?? UnknownUserHash, request.Password!);
        if (user is null || verified == PasswordVerificationResult.Failed)
        {
            return Problems.Unauthorized("Incorrect username or password.");
        }
        return TypedResults.Ok(TokenResponse.From(await sessions.StartAsync(user, ct)));
    }

    private static async Task<Request?> ReadAsync(HttpContext http, CancellationToken ct)
    {
        try
        {
            if (http.Request.HasFormContentType)
            {
                var form = await http.Request.ReadFormAsync(ct);
                return new Request(form["username"].FirstOrDefault(), form["password"].FirstOrDefault());
            }
            return http.Request.HasJsonContentType() ? await http.Request.ReadFromJsonAsync<Request>(ct) : null;
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or BadHttpRequestException)
        {
            return null;
        }
    }
}
