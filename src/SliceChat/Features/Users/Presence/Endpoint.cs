using FastEndpoints;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Presence;
using SliceChat.Infrastructure.Realtime;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Users.Presence;

public sealed record Request : CallerRequest
{
    /// <summary>Comma-separated user ids.</summary>
    [QueryParam]
    public string? Ids { get; init; }

    public IReadOnlyList<Guid> ParsedIds() =>
        [.. (Ids ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Guid.Parse).Distinct()];
}

public sealed class Validator : Validator<Request>
{
    public Validator(IOptions<PresenceOptions> options)
    {
        var max = options.Value.MaxIds;
        RuleFor(r => r.Ids).Cascade(CascadeMode.Stop).NotEmpty().WithMessage("ids must name one or more user ids, comma-separated.")
            .Must(ids => ids!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).All(id => Guid.TryParse(id, out _)))
            .WithMessage("ids must be UUIDs.")
            .Must(ids => ids!.Split(',', StringSplitOptions.RemoveEmptyEntries).Length <= max)
            .WithMessage($"ids must name at most {max} users.");
    }
}

public sealed class Endpoint(ChatDbContext db, SocketSlots slots) : Endpoint<Request, Ok<List<PresenceEvent>>>
{
    public override void Configure()
    {
        Get(ApiRoutes.UsersPresence);
        Summary(s => s.Summary = "The presence of the given users who share a conversation with the caller (others are left out)");
    }

    public override async Task<Ok<List<PresenceEvent>>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var ids = request.ParsedIds();
        var visible = await db.SharingWithAsync(request.CallerId, [.. ids], ct);
        var states = await slots.StatesAsync(visible);
        return TypedResults.Ok(ids.Where(states.ContainsKey).Select(id => PresenceEvent.From(states[id])).ToList());
    }
}
