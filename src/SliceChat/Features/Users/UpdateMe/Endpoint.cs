using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Accounts;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Security;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Users.UpdateMe;

public sealed class Endpoint(Accounts accounts, LoginSessions sessions) : Endpoint<Request, Results<Ok<UserResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Patch(ApiRoutes.Me);
        Options(b => b.RateLimited(RateLimitPolicies.Writes));
        Summary(s =>
        {
            s.Summary = "Change username, email or password; needs the current password";
            s.Description = "A new password revokes every other login session of the user (the caller's stays).";
            s.ExampleRequest = new Request { Email = "ada@example.org", CurrentPassword = "correct horse battery" };
        });
    }

    public override async Task<Results<Ok<UserResponse>, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var user = await accounts.VerifyPasswordAsync(request.CallerId, request.CurrentPassword!, ct);
        if (user is null)
        {
            return Problems.Unauthorized("The current password is wrong.");
        }
        Mapper.Apply(request, user);
        if (request.Password is not null)
        {
            accounts.SetPassword(user, request.Password);
        }
        if ((await accounts.TakenAsync(user, ct) ?? await accounts.SaveAsync(user, ct)) is { } taken)
        {
            return Problems.Conflict(taken);
        }
        if (request.Password is not null)
        {
            // Whoever knew the old password is logged out everywhere; the caller's session stays.
            await sessions.RevokeAllOfUserAsync(user.Id, exceptSessionId: request.SessionId, ct);
        }
        return TypedResults.Ok(UserResponse.From(user));
    }
}
