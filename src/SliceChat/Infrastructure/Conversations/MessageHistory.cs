using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query;
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
public sealed class MessageHistory(ChatDbContext db, PerApp<CompiledHistoryQueries> queries)
{
    /// <summary>The lowest <c>after_seq</c>: 0 is before the first message.</summary>
    public const long MinAfterSeq = 0;

    /// <summary>The lowest <c>before_seq</c>: 1 is the first message.</summary>
    public const long MinBeforeSeq = 1;

    public Task<MessagePage> PageAsync(Guid chatroomId, long? beforeSeq, long? afterSeq, int limit, CancellationToken ct) =>
        PageOfAsync(chatroomId, memberId: null, beforeSeq, afterSeq, limit, ct);

    /// <summary>
    /// Like <see cref="PageAsync"/>, only while <paramref name="userId"/> is a member, in the same one query: a page
    /// with messages needs no access check of its own. An empty page may mean no access; the caller then checks.
    /// </summary>
    public Task<MessagePage> PageAsMemberAsync(Guid chatroomId, Guid userId, long? beforeSeq, long? afterSeq, int limit, CancellationToken ct) =>
        PageOfAsync(chatroomId, userId, beforeSeq, afterSeq, limit, ct);

    private async Task<MessagePage> PageOfAsync(Guid chatroomId, Guid? memberId, long? beforeSeq, long? afterSeq, int limit, CancellationToken ct)
    {
        var before = beforeSeq ?? long.MaxValue;
        // One row more than the page tells whether more lie past it: the newest after a cursor, else the oldest. Sorted here
        // again, since SQL orders the rows it limits, not the rows of the join around them.
        var rows = afterSeq is { } after
            ? await queries.Value.Ascending(db, chatroomId, memberId, after, before, limit + 1).ToListAsync(ct)
            : await queries.Value.Descending(db, chatroomId, memberId, MinAfterSeq, before, limit + 1).ToListAsync(ct);
        rows.Sort((x, y) => x.Message.Seq.CompareTo(y.Message.Seq));
        var hasMore = rows.Count > limit;
        if (hasMore)
        {
            rows.RemoveAt(afterSeq is null ? 0 : limit);
        }
        return new MessagePage(await db.WithAttachmentsAsync(rows, ct), hasMore);
    }
}

/// <summary>
/// <see cref="MessageHistory"/>'s two queries, compiled once per app (<see cref="PerApp{T}"/>): building them was a seventh
/// of a history request's CPU (perf, bench scenario f). Without a member, the membership condition drops out of the SQL
/// (EF caches one statement per nullness of the parameter).
/// </summary>
public sealed class CompiledHistoryQueries
{
    /// <summary>A room's messages between two seqs (exclusive), while the member, if any, belongs to the room.</summary>
    private static readonly Expression<Func<ChatDbContext, Guid, Guid?, long, long, IQueryable<Message>>> InRange =
        (db, room, member, after, before) => db.Messages.TagWith(PreparedStatements.Tag)
            .Where(m => (member == null || db.Members.Any(x => x.ChatroomId == room && x.UserId == member)) && m.ChatroomId == room && m.Seq > after && m.Seq < before);

    public Func<ChatDbContext, Guid, Guid?, long, long, int, IAsyncEnumerable<MessageRow>> Ascending { get; } =
        Compile((messages, take) => messages.OrderBy(m => m.Seq).Take(take));

    public Func<ChatDbContext, Guid, Guid?, long, long, int, IAsyncEnumerable<MessageRow>> Descending { get; } =
        Compile((messages, take) => messages.OrderByDescending(m => m.Seq).Take(take));

    private static Func<ChatDbContext, Guid, Guid?, long, long, int, IAsyncEnumerable<MessageRow>> Compile(
        Expression<Func<IQueryable<Message>, int, IQueryable<Message>>> page)
    {
        // The page of InRange, its page size the last parameter.
        var messages = ReplacingExpressionVisitor.Replace(page.Parameters[0], InRange.Body, page.Body);
        return EF.CompileAsyncQuery(Expression.Lambda<Func<ChatDbContext, Guid, Guid?, long, long, int, IQueryable<MessageRow>>>(
            MessageMapper.Rows(messages, InRange.Parameters[0]), [.. InRange.Parameters, page.Parameters[1]]));
    }
}
