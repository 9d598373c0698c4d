using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Accounts;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Auth.Register;

public sealed class Endpoint(ChatDbContext db, Accounts accounts) : Endpoint<Request, Results<Created<UserResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Post(ApiRoutes.Register, ApiRoutes.Signup);
        Options(b => b.RateLimited(RateLimitPolicies.Registrations));
        AllowAnonymous();
        Summary(s =>
        {
            s.Summary = "Create an account";
            s.Description = "Usernames and emails are unique regardless of case. /signup is an alias.";
            s.ExampleRequest = new Request { Username = "ada", Email = "ada@example.com", Password = "correct horse battery" };
        });
    }

    public override async Task<Results<Created<UserResponse>, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var user = Mapper.ToEntity(request);
        db.Users.Add(user);
        // Checked before the (deliberately slow) hash, so a taken name answers at once.
        if (await accounts.TakenAsync(user, ct) is { } taken)
        {
            return Problems.Conflict(taken);
        }
        accounts.SetPassword(user, request.Password!);
        if (await accounts.SaveAsync(user, ct) is { } lostRace)
        {
            return Problems.Conflict(lostRace);
        }
        return TypedResults.Created(ApiRoutes.Fill(ApiRoutes.User, user.Id), UserResponse.From(user));
    }
}
