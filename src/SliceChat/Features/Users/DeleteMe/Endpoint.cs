using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using SliceChat.Infrastructure.Security;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Users.DeleteMe;

public sealed record Request(string? CurrentPassword);

public sealed class Validator : AbstractValidator<Request>
{
    public Validator() => RuleFor(r => r.CurrentPassword).NotEmpty().MaximumLength(UserRules.PasswordMax);
}

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/users/me";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapDelete(Route, Handle).WithName("DeleteMe").WithTags("Users").RequireAuthorization().WithValidation<Request>()
            .Accepts<Request>("application/json")
            .WithSummary("Delete the account: sessions revoked, email and name erased, messages kept under a tombstone name");

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Handle(
        [Microsoft.AspNetCore.Mvc.FromBody] Request request, CurrentUser current, ChatDbContext db, IPasswordHasher<User> hasher,
        LoginSessions sessions, Membership membership, CancellationToken ct)
    {
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == current.Id && u.DeletedAt == null, ct);
        if (user is null || hasher.VerifyHashedPassword(user, user.PasswordHash, request.CurrentPassword!) == PasswordVerificationResult.Failed)
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
        await sessions.RevokeAllOfUserAsync(user.Id, ct);
        return TypedResults.NoContent();
    }
}
