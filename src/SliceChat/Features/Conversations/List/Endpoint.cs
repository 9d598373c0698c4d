using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using SliceChat.Infrastructure.Realtime;

namespace SliceChat.Features.Conversations.List;

public sealed class Endpoint(ChatDbContext db, SocketSlots presence) : Endpoint<Request, Ok<List<Response>>>
{
    public override void Configure()
    {
        Get(ApiRoutes.Conversations, ApiRoutes.ConversationsAlias);
        Summary(s => s.Summary = "Every conversation of the caller, newest activity first");
    }

    /// <summary>Two queries whatever the number of conversations (the conversations with partners, then their last messages), and one presence lookup.</summary>
    public override async Task<Ok<List<Response>>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var userId = request.CallerId;
        var conversations = await (
            from me in db.Members.TagWith(PreparedStatements.Tag).Where(m => m.UserId == userId)
            join r in db.Chatrooms on me.ChatroomId equals r.Id
            orderby r.LastActivityAt descending, r.Id descending
            select new ConversationRow(
                r.Id,
                r.Kind,
                r.Name,
                // Scalar subqueries (not a join), so group rooms do not multiply into a row per member.
                db.Members.Where(p => r.Kind == ChatroomKind.Direct && p.ChatroomId == r.Id && p.UserId != userId)
                    .Select(p => (Guid?)p.UserId).FirstOrDefault(),
                db.Members.Where(p => r.Kind == ChatroomKind.Direct && p.ChatroomId == r.Id && p.UserId != userId)
                    .Join(db.Users, p => p.UserId, u => u.Id, (p, u) => u.Username).FirstOrDefault(),
                r.LastSeq,
                me.LastReadSeq,
                r.LastActivityAt))
            .AsNoTracking().ToListAsync(ct);

        // A join on (chatroom_id, seq): one index probe per conversation, however large the messages table grows. Selected by
        // the caller's membership again rather than by the list of rooms, so that the statement is the same on every call and
        // is prepared (planning it with a list of 200 rooms cost more than running it).
        var lastMessages = await (
            from me in db.Members.TagWith(PreparedStatements.Tag).Where(m => m.UserId == userId)
            join r in db.Chatrooms on me.ChatroomId equals r.Id
            join m in db.Messages on new { ChatroomId = r.Id, Seq = r.LastSeq } equals new { m.ChatroomId, m.Seq }
            select m)
            .Responses(db)
            .ToDictionaryAsync(m => m.ChatroomId, ct);

        var partners = await presence.StatesAsync([.. conversations.Where(c => c.PartnerId is not null).Select(c => c.PartnerId!.Value)]);
        return TypedResults.Ok(conversations.Select(c => Mapper.ToResponse(c, lastMessages.GetValueOrDefault(c.Id),
            c.PartnerId is { } partnerId && partners.TryGetValue(partnerId, out var state) && state.Online)).ToList());
    }
}
