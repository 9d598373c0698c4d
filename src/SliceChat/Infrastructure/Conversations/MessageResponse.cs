using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore.Query;
using SliceChat.Infrastructure.Attachments;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Infrastructure.Conversations;

/// <summary>A message as every API and socket frame shows it.</summary>
public sealed record MessageResponse(
    Guid Id,
    Guid ChatroomId,
    long Seq,
    Guid SenderId,
    string SenderUsername,
    Guid? RecipientId,
    string Content,
    string? ClientMessageId,
    DateTimeOffset CreatedAt,
    DateTimeOffset? EditedAt,
    DateTimeOffset? DeletedAt,
    IReadOnlyList<AttachmentResponse> Attachments);

public static class MessageMapper
{
    public static MessageResponse From(Message m, string senderUsername, IReadOnlyList<AttachmentResponse> attachments) =>
        new(m.Id, m.ChatroomId, m.Seq, m.SenderId, senderUsername, m.RecipientId, m.Content, m.ClientMessageId, m.CreatedAt, m.EditedAt, m.DeletedAt, attachments);

    /// <summary>
    /// Messages with their sender's name (a tombstone for deleted accounts) and their attachments in upload order, as one SQL query. Filter,
    /// order and limit <paramref name="messages"/> first: the projection cannot be ordered in SQL.
    /// </summary>
    public static IQueryable<MessageResponse> Responses(this IQueryable<Message> messages, ChatDbContext db) =>
        messages.Provider.CreateQuery<MessageResponse>(Responses(messages.Expression, Expression.Constant(db)));

    /// <summary>
    /// <see cref="Responses(IQueryable{Message}, ChatDbContext)"/> as an expression over the expressions of the messages and the context, for
    /// queries compiled with <c>EF.CompileAsyncQuery</c>, whose lambdas cannot call a method that builds a query.
    /// </summary>
    public static Expression Responses(Expression messages, Expression db) =>
        new ReplacingExpressionVisitor([Projection.Parameters[0], Projection.Parameters[1]], [messages, db]).Visit(Projection.Body);

    private static readonly Expression<Func<IQueryable<Message>, ChatDbContext, IQueryable<MessageResponse>>> Projection = (messages, db) =>
        from m in messages
        join u in db.Users on m.SenderId equals u.Id
        select new MessageResponse(m.Id, m.ChatroomId, m.Seq, m.SenderId, u.DeletedAt == null ? u.Username : User.TombstoneName,
            m.RecipientId, m.Content, m.ClientMessageId, m.CreatedAt, m.EditedAt, m.DeletedAt,
            db.Attachments.Where(a => a.MessageId == m.Id).OrderBy(a => a.Id)
                .Select(a => new AttachmentResponse(a.Id, a.FileName, a.ContentType, a.Size, a.Width, a.Height, a.Sha256, a.CreatedAt)).ToList());
}
