using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Messages;

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
    public async Task<SendResult> SendToRoomAsync(Guid chatroomId, CurrentUser sender, string content, string? clientMessageId, CancellationToken ct)
    {
        var room = await access.FindAsync(chatroomId, sender.Id, ct);
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
            recipient = await db.Members.Where(m => m.ChatroomId == chatroomId && m.UserId != sender.Id).Select(m => (Guid?)m.UserId).FirstOrDefaultAsync(ct);
            if (recipient is null)
            {
                return SendResult.Failed(SendError.NotFound); // the partner deleted their account
            }
        }
        return await StoreAsync(chatroomId, sender, recipient, content, clientMessageId, ct);
    }

    public async Task<SendResult> SendDirectAsync(Guid recipientId, CurrentUser sender, string content, string? clientMessageId, CancellationToken ct)
    {
        if (recipientId == sender.Id)
        {
            return SendResult.Failed(SendError.ToSelf);
        }
        var recipient = await db.Users.AsNoTracking().Where(u => u.Id == recipientId && u.DeletedAt == null).Select(u => u.Username).FirstOrDefaultAsync(ct);
        if (recipient is null)
        {
            return SendResult.Failed(SendError.NotFound);
        }
        var chatroomId = await FindOrCreateDirectAsync(sender, recipientId, recipient, ct);
        return await StoreAsync(chatroomId, sender, recipientId, content, clientMessageId, ct);
    }

    /// <summary>The pair's one direct conversation; the unique direct key settles two first messages racing.</summary>
    public async Task<Guid> FindOrCreateDirectAsync(CurrentUser sender, Guid partnerId, string partnerName, CancellationToken ct)
    {
        var key = Chatroom.DirectKeyOf(sender.Id, partnerId);
        var existing = await db.Chatrooms.Where(c => c.DirectKey == key).Select(c => (Guid?)c.Id).FirstOrDefaultAsync(ct);
        if (existing is { } id)
        {
            return id;
        }

        var now = Clock.Now();
        var room = new Chatroom { Id = Guid.CreateVersion7(), Kind = ChatroomKind.Direct, Name = "direct", IsPrivate = true, CreatedBy = sender.Id, CreatedAt = now, LastActivityAt = now, DirectKey = key };
        db.Chatrooms.Add(room);
        db.Members.Add(new Member { ChatroomId = room.Id, UserId = sender.Id, Role = MemberRole.Member, JoinedAt = now });
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
        var senderName = await db.Users.Where(u => u.Id == sender.Id).Select(u => u.Username).SingleAsync(ct);
        await events.MemberJoinedAsync(room.Id, sender.Id, senderName, 0);
        await events.MemberJoinedAsync(room.Id, partnerId, partnerName, 0);
        return room.Id;
    }

    private async Task<SendResult> StoreAsync(Guid chatroomId, CurrentUser sender, Guid? recipientId, string content, string? clientMessageId, CancellationToken ct)
    {
        var now = Clock.Now();
        // The name as it is now, not as the access token remembers it.
        var senderName = await db.Users.Where(u => u.Id == sender.Id).Select(u => u.Username).SingleAsync(ct);
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
                var original = await db.Messages.Where(m => m.ChatroomId == chatroomId && m.SenderId == sender.Id && m.ClientMessageId == clientMessageId).Responses(db).FirstOrDefaultAsync(ct);
                if (original is not null)
                {
                    await transaction.RollbackAsync(ct);
                    return new SendResult(original, false, SendError.None);
                }
            }
            // After the duplicate check: a retry of a stored message is answered, never rate limited.
            if (limits.TrySendMessage(sender.Id) is { } retryAfter)
            {
                await transaction.RollbackAsync(ct);
                return SendResult.Failed(SendError.RateLimited, retryAfter);
            }
            message = new Message
            {
                Id = Guid.CreateVersion7(),
                ChatroomId = chatroomId,
                Seq = seq.Value,
                SenderId = sender.Id,
                RecipientId = recipientId,
                Content = content,
                ClientMessageId = clientMessageId,
                CreatedAt = now,
            };
            db.Messages.Add(message);
            await db.SaveChangesAsync(ct);
            await db.Members.Where(m => m.ChatroomId == chatroomId && m.UserId == sender.Id && m.LastReadSeq < seq)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.LastReadSeq, seq.Value), ct);
            await transaction.CommitAsync(ct);
        }
        db.ChangeTracker.Clear();

        var response = MessageMapper.From(message, senderName);
        await events.PublishAsync(chatroomId, ChatEvents.MessageCreated, response);
        return new SendResult(response, true, SendError.None);
    }
}

public static class SendResultHttp
{
    /// <summary>201 for a new message, 200 with the original for a repeat, else the contract's problem.</summary>
    public static Results<Created<MessageResponse>, Ok<MessageResponse>, ValidationProblem, ProblemHttpResult> ToHttp(SendResult result, HttpContext http) =>
        result.Error switch
        {
            SendError.None when result.Created => TypedResults.Created((string?)null, result.Message),
            SendError.None => TypedResults.Ok(result.Message),
            SendError.NotMember => Problems.Forbidden("You are not a member of this chatroom."),
            SendError.ToSelf => Problems.Invalid("recipient_id", "You cannot send a direct message to yourself."),
            SendError.RateLimited => RateLimitedResult.TooManyRequests(http, result.RetryAfter),
            _ => Problems.NotFound("No such chatroom or user."),
        };
}
