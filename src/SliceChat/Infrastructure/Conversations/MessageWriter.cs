using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Infrastructure.Conversations;

public enum SendError
{
    None,
    NotFound,
    NotMember,
    ToSelf,
    RateLimited,
    /// <summary>This instance's send queue is full (<c>Limits:SendQueueCapacity</c>): nothing stored; retry shortly.</summary>
    Overloaded,
    /// <summary>An attachment id is unknown, not the sender's upload, or used by another message: nothing stored.</summary>
    AttachmentsUnavailable,
}

/// <summary>A send's outcome: the message (<see cref="Created"/> false for an idempotent repeat) or why not.</summary>
public sealed record SendResult(MessageResponse? Message, bool Created, SendError Error, TimeSpan RetryAfter = default)
{
    public static SendResult Failed(SendError error, TimeSpan retryAfter = default) => new(null, false, error, retryAfter);
}

/// <summary>
/// Hands a send to this instance's <see cref="SendBatcher"/>, for REST and sockets alike: the queue
/// stores it with the sends waiting alongside (the sender's access checked in the same statement, seqs
/// allocated in the insert's transaction, a repeated client_message_id answered with the original, the
/// sender's read marker moved) and publishes it once committed. The <c>Queue…</c> methods return once
/// the send is queued, with a task of its outcome, so a socket can queue its next send while this one is
/// stored.
/// </summary>
public sealed class MessageWriter(ChatDbContext db, ChatEvents events, SendBatcher queue, RateLimits limits, MessageStore store)
{
    public async Task<SendResult> SendToRoomAsync(Guid chatroomId, Guid senderId, string content, string? clientMessageId,
        IReadOnlyList<Guid>? attachmentIds, CancellationToken ct) =>
        await await QueueToRoomAsync(chatroomId, senderId, content, clientMessageId, attachmentIds, ct);

    public async Task<SendResult> SendDirectAsync(Guid recipientId, Guid senderId, string content, string? clientMessageId,
        IReadOnlyList<Guid>? attachmentIds, CancellationToken ct) =>
        await await QueueDirectAsync(recipientId, senderId, content, clientMessageId, attachmentIds, ct);

    /// <summary>Queues a send to a conversation by its id; whether the sender may send there is checked as it is stored.</summary>
    public Task<Task<SendResult>> QueueToRoomAsync(Guid chatroomId, Guid senderId, string content, string? clientMessageId,
        IReadOnlyList<Guid>? attachmentIds, CancellationToken ct) =>
        EnqueueAsync(new PendingSend(chatroomId, senderId, content, clientMessageId, attachmentIds), ct);

    public async Task<Task<SendResult>> QueueDirectAsync(Guid recipientId, Guid senderId, string content, string? clientMessageId,
        IReadOnlyList<Guid>? attachmentIds, CancellationToken ct)
    {
        if (recipientId == senderId)
        {
            return Refused(SendError.ToSelf);
        }
        // Both names in one query: the recipient's only while the account exists.
        var names = await db.Users.AsNoTracking()
            .Where(u => (u.Id == recipientId && u.DeletedAt == null) || u.Id == senderId)
            .Select(u => new { u.Id, u.Username })
            .ToListAsync(ct);
        var recipient = names.FirstOrDefault(u => u.Id == recipientId)?.Username;
        var senderName = names.FirstOrDefault(u => u.Id == senderId)?.Username;
        if (recipient is null || senderName is null)
        {
            return Refused(SendError.NotFound);
        }
        var chatroomId = await FindOrCreateDirectAsync(senderId, senderName, recipientId, recipient, ct);
        return await EnqueueAsync(new PendingSend(chatroomId, senderId, content, clientMessageId, attachmentIds), ct);
    }

    private static Task<SendResult> Refused(SendError error) => Task.FromResult(SendResult.Failed(error));

    /// <summary>
    /// Hands a send to the queue within <c>Limits:MessagesPerMinute</c>. Over the limit, a retry of a stored
    /// message is still answered with the original (a retry is never rate limited); checked here, on the sender's own
    /// request, so the instance's writer never waits for the limiter (nor for Redis behind it).
    /// </summary>
    private async Task<Task<SendResult>> EnqueueAsync(PendingSend send, CancellationToken ct)
    {
        if (await limits.TryAcquireAsync(limits.Messages, send.SenderId.ToString("N")) is { } retryAfter)
        {
            return Task.FromResult(await store.AnswerWithoutStoringAsync(send, ct) ?? SendResult.Failed(SendError.RateLimited, retryAfter));
        }
        return queue.SendAsync(send, ct);
    }

    /// <summary>The pair's one direct conversation; the unique direct key settles two first messages racing.</summary>
    private async Task<Guid> FindOrCreateDirectAsync(Guid senderId, string senderName, Guid partnerId, string partnerName, CancellationToken ct)
    {
        var key = Chatroom.DirectKeyOf(senderId, partnerId);
        var existing = await db.Chatrooms.Where(c => c.DirectKey == key).Select(c => (Guid?)c.Id).FirstOrDefaultAsync(ct);
        if (existing is { } id)
        {
            return id;
        }

        var now = Clock.Now();
        var room = new Chatroom { Id = SequentialIds.Next(), Kind = ChatroomKind.Direct, Name = "direct", IsPrivate = true, CreatedBy = senderId, CreatedAt = now, LastActivityAt = now, DirectKey = key };
        db.Chatrooms.Add(room);
        db.Members.Add(new Member { ChatroomId = room.Id, UserId = senderId, Role = MemberRole.Member, JoinedAt = now });
        db.Members.Add(new Member { ChatroomId = room.Id, UserId = partnerId, Role = MemberRole.Member, JoinedAt = now });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e))
        {
            db.ChangeTracker.Clear();
            return await db.Chatrooms.Where(c => c.DirectKey == key).Select(c => c.Id).SingleAsync(ct);
        }
        db.ChangeTracker.Clear();
        await events.MemberJoinedAsync(room.Id, senderId, senderName, 0);
        await events.MemberJoinedAsync(room.Id, partnerId, partnerName, 0);
        return room.Id;
    }
}
