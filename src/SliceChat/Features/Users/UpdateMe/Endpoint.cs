using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Users.UpdateMe;

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/users/me";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapPatch(Route, Handle).WithName("UpdateMe").WithTags("Users").RequireAuthorization().WithValidation<Request>()
            .WithSummary("Change username, email or password; needs the current password");

    public static async Task<Results<Ok<UserResponse>, ValidationProblem, ProblemHttpResult>> Handle(
        Request request, CurrentUser current, ChatDbContext db, IPasswordHasher<User> hasher, CancellationToken ct)
    {
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == current.Id && u.DeletedAt == null, ct);
        if (user is null || hasher.VerifyHashedPassword(user, user.PasswordHash, request.CurrentPassword!) == PasswordVerificationResult.Failed)
        {
            return Problems.Unauthorized("The current password is wrong.");
        }

        var normalizedUsername = request.Username is null ? null : UserRules.Normalize(request.Username);
        var normalizedEmail = request.Email is null ? null : UserRules.Normalize(request.Email);
        if (await UniqueAccountFields.FindTakenAsync(db, user.Id, normalizedUsername, normalizedEmail, ct) is { } taken)
        {
            return Problems.Conflict(taken);
        }
        if (request.Username is not null)
        {
            user.Username = request.Username;
            user.NormalizedUsername = normalizedUsername!;
        }
        if (request.Email is not null)
        {
            user.Email = request.Email;
            user.NormalizedEmail = normalizedEmail;
        }
        if (request.Password is not null)
        {
            user.PasswordHash = hasher.HashPassword(user, request.Password);
        }
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e))
        {
            return Problems.Conflict(UniqueAccountFields.DescribeViolation(e));
        }
        return TypedResults.Ok(UserResponse.From(user));
    }
}
