using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using SliceChat.Features.Users;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Auth.Register;

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/auth/register";
    public const string AliasRoute = "/api/v1/auth/signup";

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost(Route, Handle).WithName("Register").WithTags("Auth").AllowAnonymous().WithValidation<Request>()
            .WithSummary("Create an account");
        app.MapPost(AliasRoute, Handle).WithName("Signup").WithTags("Auth").AllowAnonymous().WithValidation<Request>()
            .WithSummary("Create an account (alias of register)");
    }

    public static async Task<Results<Created<UserResponse>, ValidationProblem, ProblemHttpResult>> Handle(
        Request request, ChatDbContext db, IPasswordHasher<User> hasher, CancellationToken ct)
    {
        var username = request.Username!;
        var email = request.Email!;
        var user = new User
        {
            Id = Guid.CreateVersion7(),
            Username = username,
            NormalizedUsername = UserRules.Normalize(username),
            Email = email,
            NormalizedEmail = UserRules.Normalize(email),
            PasswordHash = "",
            CreatedAt = Clock.Now(),
        };
        if (await UniqueAccountFields.FindTakenAsync(db, null, user.NormalizedUsername, user.NormalizedEmail, ct) is { } taken)
        {
            return Problems.Conflict(taken);
        }
        user.PasswordHash = hasher.HashPassword(user, request.Password!);
        db.Users.Add(user);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e))
        {
            return Problems.Conflict(UniqueAccountFields.DescribeViolation(e));
        }
        return TypedResults.Created(Users.Profile.Endpoint.RouteFor(user.Id), UserResponse.From(user));
    }
}
