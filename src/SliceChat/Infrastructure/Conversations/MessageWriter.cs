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
}

/// <summary>A send's outcome: the message (<see cref="Created"/> false for an idempotent repeat) or why not.</summary>
public sealed record SendResult(MessageResponse? Message, bool Created, SendError Error, TimeSpan RetryAfter = default)
{
    public static SendResult Failed(SendError error, TimeSpan retryAfter = default) => new(null, false, error, retryAfter);
}

/// <summary>
/// Stores a message and publishes it, for REST and sockets alike: seq allocated in the insert's
/// transaction, a repeated client_message_id answered with the original, the sender's read marker moved.
/// </summary>
public sealed class MessageWriter(ChatDbContext db, SeqAllocator seqs, ChatroomAccess access, ChatEvents events, RateLimits limits)
{
    public async Task<SendResult> SendToRoomAsync(Guid chatroomId, Guid senderId, string content, string? clientMessageId, CancellationToken ct)
    {
        var room = await access.FindAsync(chatroomId, senderId, ct);
        if (room is null)
        {
            return SendResult.Failed(SendError.NotFound);
        }
        if (!room.IsMember)
        {
            return SendResult.Failed(SendError.NotMember);
        }
        Guid? recipient = null;
        if (room.Room.Kind == ChatroomKind.Direct)
        {
            recipient = await db.Members.Where(m => m.ChatroomId == chatroomId && m.UserId != senderId).Select(m => (Guid?)m.UserId).FirstOrDefaultAsync(ct);
            if (recipient is null)
            {
                return SendResult.Failed(SendError.NotFound); // the partner deleted their account
            }
        }
        return await StoreAsync(chatroomId, senderId, await db.UsernameAsync(senderId, ct), recipient, content, clientMessageId, ct);
    }

    public async Task<SendResult> SendDirectAsync(Guid recipientId, Guid senderId, string content, string? clientMessageId, CancellationToken ct)
    {
        if (recipientId == senderId)
        {
            return SendResult.Failed(SendError.ToSelf);
        }
        var recipient = await db.Users.AsNoTracking().Where(u => u.Id == recipientId && u.DeletedAt == null).Select(u => u.Username).FirstOrDefaultAsync(ct);
        if (recipient is null)
        {
            return SendResult.Failed(SendError.NotFound);
        }
        var senderName = await db.UsernameAsync(senderId, ct);
        var chatroomId = await FindOrCreateDirectAsync(senderId, senderName, recipientId, recipient, ct);
        return await StoreAsync(chatroomId, senderId, senderName, recipientId, content, clientMessageId, ct);
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
        var room = new Chatroom { Id = Guid.CreateVersion7(), Kind = ChatroomKind.Direct, Name = "direct", IsPrivate = true, CreatedBy = senderId, CreatedAt = now, LastActivityAt = now, DirectKey = key };
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

    /// <param name="senderName">The name as it is now, not as the access token remembers it.</param>
    private async Task<SendResult> StoreAsync(Guid chatroomId, Guid senderId, string senderName, Guid? recipientId, string content, string? clientMessageId, CancellationToken ct)
    {
        var now = Clock.Now();
        Message message;
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            // Taken first: it holds the conversation's write lock, so the duplicate check below cannot race.
            var seq = await seqs.NextAsync(chatroomId, now, ct);
            if (seq is null)
            {
                return SendResult.Failed(SendError.NotFound);
            }
            if (clientMessageId is not null)
            {
                var original = await db.Messages.Where(m => m.ChatroomId == chatroomId && m.SenderId == senderId && m.ClientMessageId == clientMessageId).Responses(db).FirstOrDefaultAsync(ct);
                if (original is not null)
                {
                    await transaction.RollbackAsync(ct);
                    return new SendResult(original, false, SendError.None);
                }
            }
            // After the duplicate check: a retry of a stored message is answered, never rate limited.
            if (limits.TrySendMessage(senderId) is { } retryAfter)
            {
                await transaction.RollbackAsync(ct);
                return SendResult.Failed(SendError.RateLimited, retryAfter);
            }
            message = new Message
            {
                Id = Guid.CreateVersion7(),
                ChatroomId = chatroomId,
                Seq = seq.Value,
                SenderId = senderId,
                RecipientId = recipientId,
                Content = content,
                ClientMessageId = clientMessageId,
                CreatedAt = now,
            };
            db.Messages.Add(message);
            await db.SaveChangesAsync(ct);
            await db.Members.Where(m => m.ChatroomId == chatroomId && m.UserId == senderId && m.LastReadSeq < seq)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.LastReadSeq, seq.Value), ct);
            await transaction.CommitAsync(ct);
        }
        db.ChangeTracker.Clear();

        var response = MessageMapper.From(message, senderName);
        await events.PublishAsync(chatroomId, ChatEvents.MessageCreated, response);
        return new SendResult(response, true, SendError.None);
    }
}
