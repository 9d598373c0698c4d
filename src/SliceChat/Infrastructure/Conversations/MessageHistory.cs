using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Infrastructure.Conversations;

/// <summary>A page of a conversation's messages, ascending by seq, and whether more lie past it.</summary>
public sealed record MessagePage(List<MessageResponse> Items, bool HasMore);

/// <summary>
/// Pages of a conversation's history, for REST history and socket replays alike, each as one range
/// query on (chatroom_id, seq): no cursor = the newest <c>limit</c>; <c>beforeSeq</c> = older;
/// <c>afterSeq</c> = newer (catch-up), up to <c>beforeSeq</c> when both are given.
/// </summary>
public sealed class MessageHistory(ChatDbContext db)
{
    /// <summary>The lowest <c>after_seq</c>: 0 is before the first message.</summary>
    public const long MinAfterSeq = 0;

    /// <summary>The lowest <c>before_seq</c>: 1 is the first message.</summary>
    public const long MinBeforeSeq = 1;

    public Task<MessagePage> PageAsync(Guid chatroomId, long? beforeSeq, long? afterSeq, int limit, CancellationToken ct) =>
        PageOfAsync(db.Messages, chatroomId, beforeSeq, afterSeq, limit, ct);

    /// <summary>
    /// Like <see cref="PageAsync"/>, only while <paramref name="userId"/> is a member, in the same one query: a page
    /// with messages needs no access check of its own. An empty page may mean no access; the caller then checks.
    /// </summary>
    public Task<MessagePage> PageAsMemberAsync(Guid chatroomId, Guid userId, long? beforeSeq, long? afterSeq, int limit, CancellationToken ct) =>
        PageOfAsync(db.Messages.Where(_ => db.Members.Any(m => m.ChatroomId == chatroomId && m.UserId == userId)), chatroomId, beforeSeq, afterSeq, limit, ct);

    private async Task<MessagePage> PageOfAsync(IQueryable<Message> messages, Guid chatroomId, long? beforeSeq, long? afterSeq, int limit, CancellationToken ct)
    {
        var before = beforeSeq ?? long.MaxValue;
        if (afterSeq is { } after)
        {
            var newer = await messages.TagWith(PreparedStatements.Tag).Where(m => m.ChatroomId == chatroomId && m.Seq > after && m.Seq < before)
                .OrderBy(m => m.Seq).Take(limit + 1).Responses(db).ToListAsync(ct);
            return new MessagePage(newer.OrderBy(m => m.Seq).Take(limit).ToList(), newer.Count > limit);
        }
        var older = await messages.TagWith(PreparedStatements.Tag).Where(m => m.ChatroomId == chatroomId && m.Seq < before)
            .OrderByDescending(m => m.Seq).Take(limit + 1).Responses(db).ToListAsync(ct);
        return new MessagePage(older.OrderByDescending(m => m.Seq).Take(limit).OrderBy(m => m.Seq).ToList(), older.Count > limit);
    }
}
