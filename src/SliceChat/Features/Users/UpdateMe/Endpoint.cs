using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Accounts;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Users.UpdateMe;

public sealed class Endpoint(Accounts accounts) : Endpoint<Request, Results<Ok<UserResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Patch(ApiRoutes.Me);
        Summary(s =>
        {
            s.Summary = "Change username, email or password; needs the current password";
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
        if (await accounts.SaveAsync(user, ct) is { } taken)
        {
            return Problems.Conflict(taken);
        }
        return TypedResults.Ok(UserResponse.From(user));
    }
}
