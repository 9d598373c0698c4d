using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Features.Conversations.List;

/// <summary>
/// The list's two queries, compiled once per app (<see cref="PerApp{T}"/>); both are selected by the caller's membership
/// alone, so each is one prepared statement whatever the number of conversations.
/// </summary>
public sealed class Queries
{
    /// <summary>The caller's conversations with their partners, newest activity first.</summary>
    public Func<ChatDbContext, Guid, IAsyncEnumerable<ConversationRow>> Conversations { get; } = EF.CompileAsyncQuery((ChatDbContext db, Guid userId) =>
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
            r.LastActivityAt));

    /// <summary>
    /// The last message of each of the caller's conversations (without attachments: <see cref="MessageMapper.WithAttachmentsAsync"/>):
    /// one index probe on (chatroom_id, seq) per conversation, however large the messages table grows.
    /// </summary>
    public Func<ChatDbContext, Guid, IAsyncEnumerable<MessageRow>> LastMessages { get; } = EF.CompileAsyncQuery(
        Expression.Lambda<Func<ChatDbContext, Guid, IQueryable<MessageRow>>>(
            MessageMapper.Rows(LastMessagesOf.Body, LastMessagesOf.Parameters[0]), LastMessagesOf.Parameters));

    private static readonly Expression<Func<ChatDbContext, Guid, IQueryable<Message>>> LastMessagesOf = (db, userId) =>
        db.Messages.TagWith(PreparedStatements.Tag).Where(m => db.Chatrooms.Any(r => r.Id == m.ChatroomId && r.LastSeq == m.Seq
            && db.Members.Any(me => me.ChatroomId == r.Id && me.UserId == userId)));
}
