using FastEndpoints;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Security;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Auth.Refresh;

public sealed record Request
{
    public string? RefreshToken { get; init; }
}

public sealed class Validator : Validator<Request>
{
    public Validator() => RuleFor(r => r.RefreshToken).NotEmpty().MaximumLength(256);
}

public sealed class Endpoint(LoginSessions sessions) : Endpoint<Request, Results<Ok<TokenResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Post(ApiRoutes.Refresh);
        AllowAnonymous();
        Summary(s =>
        {
            s.Summary = "Trade a refresh token for a new access and refresh token";
            s.Description = "The old refresh token is spent; presenting a spent one revokes its whole login session.";
        });
    }

    public override async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var tokens = await sessions.RefreshAsync(request.RefreshToken!, ct);
        return tokens is null
            ? Problems.Unauthorized("The refresh token is invalid, spent or expired.")
            : TypedResults.Ok(TokenResponse.From(tokens));
    }
}
