using FastEndpoints;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Accounts;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Users.Search;

public sealed record Request
{
    /// <summary>A username prefix (case-insensitive); empty lists everyone.</summary>
    [QueryParam]
    public string? Query { get; init; }
    [QueryParam]
    public int? Limit { get; init; }
}

public sealed record Response(Guid Id, string Username);

public sealed class Validator : Validator<Request>
{
    public Validator(IOptions<LimitsOptions> limits)
    {
        RuleFor(r => r.Limit).ValidLimit(limits.Value.MaxSearchResults);
        RuleFor(r => r.Query).Must(q => q is null || AccountRules.Normalize(q).Length <= AccountRules.UsernameMax)
            .WithMessage($"query must be at most {AccountRules.UsernameMax} characters.")
            .PlainText();
    }
}

public sealed class Endpoint(ChatDbContext db, IOptions<LimitsOptions> limits) : Endpoint<Request, Ok<List<Response>>>
{
    private const int DefaultLimit = 20;

    public override void Configure()
    {
        Get(ApiRoutes.Users);
        Summary(s => s.Summary = "Users whose name starts with the query, to find DM partners");
    }

    public override async Task<Ok<List<Response>>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var prefix = AccountRules.Normalize(request.Query ?? "");
        var users = await db.Users.AsNoTracking()
            .Where(u => u.DeletedAt == null && u.NormalizedUsername.StartsWith(prefix))
            .OrderBy(u => u.NormalizedUsername)
            .Take(request.Limit ?? Math.Min(DefaultLimit, limits.Value.MaxSearchResults))
            .Select(u => new Response(u.Id, u.Username))
            .ToListAsync(ct);
        return TypedResults.Ok(users);
    }
}
