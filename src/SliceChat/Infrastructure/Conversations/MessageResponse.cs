using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
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

/// <summary>A message as <see cref="MessageMapper"/> reads it: its response without attachments, and whether it has any.</summary>
public sealed record MessageRow(MessageResponse Message, bool HasAttachments);

public static class MessageMapper
{
    public static MessageResponse From(Message m, string senderUsername, IReadOnlyList<AttachmentResponse> attachments) =>
        new(m.Id, m.ChatroomId, m.Seq, m.SenderId, senderUsername, m.RecipientId, m.Content, m.ClientMessageId, m.CreatedAt, m.EditedAt, m.DeletedAt, attachments);

    /// <summary>
    /// Messages with their sender's name (a tombstone for deleted accounts) and their attachments in upload order: one query, and one
    /// more for the attachments when any of the messages has some. Filter, order and limit <paramref name="messages"/> first: the
    /// projection cannot be ordered in SQL.
    /// </summary>
    public static async Task<List<MessageResponse>> ResponsesAsync(this IQueryable<Message> messages, ChatDbContext db, CancellationToken ct) =>
        await db.WithAttachmentsAsync(await messages.Provider.CreateQuery<MessageRow>(Rows(messages.Expression, Expression.Constant(db))).ToListAsync(ct), ct);

    /// <summary>
    /// The first query of <see cref="ResponsesAsync"/> as an expression over the expressions of the messages and the context, for queries
    /// compiled with <c>EF.CompileAsyncQuery</c>, whose lambdas cannot call a method that builds a query; <see cref="WithAttachmentsAsync"/>
    /// completes its rows.
    /// </summary>
    public static Expression Rows(Expression messages, Expression db) =>
        new ReplacingExpressionVisitor([RowProjection.Parameters[0], RowProjection.Parameters[1]], [messages, db]).Visit(RowProjection.Body);

    /// <summary>The responses of <paramref name="rows"/>, in their order, with their attachments in upload order (one query, only when a row has some).</summary>
    public static async Task<List<MessageResponse>> WithAttachmentsAsync(this ChatDbContext db, IReadOnlyList<MessageRow> rows, CancellationToken ct)
    {
        var responses = new List<MessageResponse>(rows.Count);
        List<Guid>? withAttachments = null;
        foreach (var row in rows)
        {
            responses.Add(row.Message);
            if (row.HasAttachments)
            {
                (withAttachments ??= []).Add(row.Message.Id);
            }
        }
        if (withAttachments is null)
        {
            return responses;
        }
        var attachments = (await db.Attachments.AsNoTracking().Where(a => a.MessageId != null && withAttachments.Contains(a.MessageId.Value)).OrderBy(a => a.Id)
            .Select(a => new { MessageId = a.MessageId!.Value, Response = new AttachmentResponse(a.Id, a.FileName, a.ContentType, a.Size, a.Width, a.Height, a.Sha256, a.CreatedAt) })
            .ToListAsync(ct)).ToLookup(a => a.MessageId, a => a.Response);
        for (var i = 0; i < responses.Count; i++)
        {
            if (attachments.Contains(responses[i].Id))
            {
                responses[i] = responses[i] with { Attachments = [.. attachments[responses[i].Id]] };
            }
        }
        return responses;
    }

    private static readonly AttachmentResponse[] NoAttachments = [];

    /// <summary>
    /// Flat, without the attachments as a collection: EF keys every row of a collection projection by boxed ids, several times
    /// per row (about 40 KB of a history page of 50, for messages that mostly have no attachments).
    /// </summary>
    private static readonly Expression<Func<IQueryable<Message>, ChatDbContext, IQueryable<MessageRow>>> RowProjection = (messages, db) =>
        from m in messages
        join u in db.Users on m.SenderId equals u.Id
        select new MessageRow(
            new MessageResponse(m.Id, m.ChatroomId, m.Seq, m.SenderId, u.DeletedAt == null ? u.Username : User.TombstoneName,
                m.RecipientId, m.Content, m.ClientMessageId, m.CreatedAt, m.EditedAt, m.DeletedAt, NoAttachments),
            db.Attachments.Any(a => a.MessageId == m.Id));
}
