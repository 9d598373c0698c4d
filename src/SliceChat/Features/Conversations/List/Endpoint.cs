using SliceChat.Infrastructure.Conversations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Features.Messages;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Conversations.List;

public sealed record Partner(Guid Id, string Username);

public sealed record Response(
    Guid ChatroomId,
    string Kind,
    string Name,
    Partner? Partner,
    MessageResponse? LastMessage,
    long LastSeq,
    long LastReadSeq,
    long UnreadCount,
    DateTimeOffset UpdatedAt);

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/messages/conversations";
    public const string AliasRoute = "/api/v1/conversations";

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet(Route, Handle).WithName("ListConversations").WithTags("Conversations").RequireAuthorization()
            .WithSummary("Every conversation of the caller, newest activity first");
        app.MapGet(AliasRoute, Handle).WithName("ListConversationsAlias").WithTags("Conversations").RequireAuthorization()
            .WithSummary("Every conversation of the caller (alias)");
    }

    /// <summary>Two queries whatever the number of conversations: the conversations with partners, then their last messages.</summary>
    public static async Task<Ok<List<Response>>> Handle(CurrentUser user, ChatDbContext db, CancellationToken ct)
    {
        var conversations = await (
            from me in db.Members.Where(m => m.UserId == user.Id)
            join r in db.Chatrooms on me.ChatroomId equals r.Id
            orderby r.LastActivityAt descending, r.Id descending
            select new
            {
                r.Id,
                r.Kind,
                r.Name,
                // Scalar subqueries (not a join), so group rooms do not multiply into a row per member.
                PartnerId = db.Members.Where(p => r.Kind == ChatroomKind.Direct && p.ChatroomId == r.Id && p.UserId != user.Id)
                    .Select(p => (Guid?)p.UserId).FirstOrDefault(),
                PartnerName = db.Members.Where(p => r.Kind == ChatroomKind.Direct && p.ChatroomId == r.Id && p.UserId != user.Id)
                    .Join(db.Users, p => p.UserId, u => u.Id, (p, u) => u.Username).FirstOrDefault(),
                r.LastSeq,
                me.LastReadSeq,
                r.LastActivityAt,
            })
            .AsNoTracking().ToListAsync(ct);

        var withMessages = conversations.Where(c => c.LastSeq > 0).Select(c => c.Id).ToList();
        var lastMessages = await db.Messages
            .Where(m => withMessages.Contains(m.ChatroomId) && db.Chatrooms.Any(r => r.Id == m.ChatroomId && r.LastSeq == m.Seq))
            .Responses(db)
            .ToDictionaryAsync(m => m.ChatroomId, ct);

        return TypedResults.Ok(conversations.Select(c => new Response(
            c.Id,
            c.Kind == ChatroomKind.Direct ? "direct" : "group",
            c.Kind == ChatroomKind.Direct ? c.PartnerName ?? User.TombstoneName : c.Name,
            c.PartnerId is { } partnerId ? new Partner(partnerId, c.PartnerName!) : null,
            lastMessages.GetValueOrDefault(c.Id),
            c.LastSeq,
            c.LastReadSeq,
            Math.Max(0, c.LastSeq - c.LastReadSeq),
            c.LastActivityAt)).ToList());
    }
}
