using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Accounts;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Network;
using SliceChat.Infrastructure.Security;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Auth.Login;

public sealed class Endpoint(Accounts accounts, LoginSessions sessions, RateLimits limits)
    : Endpoint<Request, Results<Ok<TokenResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Post(ApiRoutes.Login);
        Options(b => b.RateLimited(RateLimitPolicies.Logins));
        AllowAnonymous();
        Description(b => b.Accepts<Request>("application/json", "application/x-www-form-urlencoded"), clearDefaults: true);
        Summary(s =>
        {
            s.Summary = "Log in with username (or email) and password";
            s.Description = "JSON or an OAuth2 password-flow form. Unknown user and wrong password answer the same 401, in similar time.";
            s.ExampleRequest = new Request { Username = "ada", Password = "correct horse battery" };
        });
    }

    public override async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        // Per address already (the route's policy); here per account from this address, so attempts from one address
        // never lock the account out for another.
        if (await limits.TryAcquireAsync(limits.Logins, $"{AccountRules.Normalize(request.Username!)}|{ClientAddress.Of(HttpContext)}") is { } retryAfter)
        {
            return Problems.TooManyRequests(HttpContext, retryAfter);
        }
        var user = await accounts.LoginAsync(request.Username!, request.Password!, ct);
        if (user is null)
        {
            return Problems.Unauthorized("Incorrect username or password.");
        }
        return TypedResults.Ok(TokenResponse.From(await sessions.StartAsync(user, request.UserAgent, ct)));
    }
}
