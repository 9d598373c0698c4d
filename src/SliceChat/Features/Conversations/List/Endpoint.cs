using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Realtime;

namespace SliceChat.Features.Conversations.List;

public sealed class Endpoint(ChatDbContext db, SocketSlots presence, PerApp<Queries> queries) : Endpoint<Request, Ok<List<Response>>>
{
    public override void Configure()
    {
        Get(ApiRoutes.Conversations, ApiRoutes.ConversationsAlias);
        Summary(s => s.Summary = "Every conversation of the caller, newest activity first");
    }

    /// <summary>Two queries whatever the number of conversations (the conversations with partners, then their last messages; a third when some of those have attachments), and one presence lookup.</summary>
    public override async Task<Ok<List<Response>>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var conversations = await queries.Value.Conversations(db, request.CallerId).ToListAsync(ct);
        var lastMessages = (await db.WithAttachmentsAsync(await queries.Value.LastMessages(db, request.CallerId).ToListAsync(ct), ct)).ToDictionary(m => m.ChatroomId);

        var partners = await presence.StatesAsync([.. conversations.Where(c => c.PartnerId is not null).Select(c => c.PartnerId!.Value)]);
        return TypedResults.Ok(conversations.Select(c => Mapper.ToResponse(c, lastMessages.GetValueOrDefault(c.Id),
            c.PartnerId is { } partnerId && partners.TryGetValue(partnerId, out var state) && state.Online)).ToList());
    }
}
