using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Security;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Auth.Refresh;

public sealed record Request(string? RefreshToken);

public sealed class Validator : AbstractValidator<Request>
{
    public Validator() => RuleFor(r => r.RefreshToken).NotEmpty().MaximumLength(256);
}

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/auth/refresh";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapPost(Route, Handle).WithName("Refresh").WithTags("Auth").AllowAnonymous().WithValidation<Request>()
            .WithSummary("Trade a refresh token for a new access and refresh token; the old one is spent");

    public static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> Handle(
        Request request, LoginSessions sessions, CancellationToken ct)
    {
        var tokens = await sessions.RefreshAsync(request.RefreshToken!, ct);
        return tokens is null
            ? Problems.Unauthorized("The refresh token is invalid, spent or expired.")
            : TypedResults.Ok(TokenResponse.From(tokens));
    }
}
