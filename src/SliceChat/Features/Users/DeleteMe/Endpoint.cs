using FastEndpoints;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Accounts;
using SliceChat.Infrastructure.Attachments;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Security;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Users.DeleteMe;

public sealed record Request : CallerRequest
{
    public string? CurrentPassword { get; init; }
}

public sealed class Validator : Validator<Request>
{
    public Validator() => RuleFor(r => r.CurrentPassword).NotEmpty().MaximumLength(AccountRules.PasswordMax);
}

public sealed class Endpoint(ChatDbContext db, Accounts accounts, LoginSessions sessions, Membership membership, AttachmentCleanup attachments)
    : Endpoint<Request, Results<NoContent, ProblemHttpResult>>
{
    public override void Configure()
    {
        Delete(ApiRoutes.Me);
        Options(b => b.RateLimited(RateLimitPolicies.Writes));
        Summary(s => s.Summary = "Delete the account: sessions revoked, email and name erased, messages kept under a tombstone name");
    }

    public override async Task<Results<NoContent, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var user = await accounts.VerifyPasswordAsync(request.CallerId, request.CurrentPassword!, ct);
        if (user is null)
        {
            return Problems.Unauthorized("The current password is wrong.");
        }
        var rooms = await db.Members.Where(m => m.UserId == user.Id).Select(m => m.ChatroomId).ToListAsync(ct);
        foreach (var room in rooms)
        {
            await membership.RemoveAsync(room, user.Id, ct);
        }

        // The row stays, so the user's messages keep their sender; what identified the person goes.
        user.Username = $"deleted-{user.Id:N}";
        user.NormalizedUsername = user.Username;
        user.Email = null;
        user.NormalizedEmail = null;
        user.PasswordHash = "";
        user.DeletedAt = Clock.Now();
        await db.SaveChangesAsync(ct);
        await sessions.RevokeAllOfUserAsync(user.Id, exceptSessionId: null, ct);
        await attachments.DeleteUnusedOfUserAsync(user.Id, ct); // the used ones stay with their messages, as the messages do
        return TypedResults.NoContent();
    }
}
