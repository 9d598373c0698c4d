using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Infrastructure.Conversations;

/// <summary>Joining and leaving conversations, with their events: the one place membership changes.</summary>
public sealed class Membership(ChatDbContext db, ChatEvents events)
{
    /// <summary>
    /// Adds the user (idempotent: an existing member stays as they are). A new member's read marker
    /// starts at the room's newest message. False when the room no longer exists.
    /// </summary>
    public async Task<bool> AddAsync(Guid chatroomId, Guid userId, MemberRole role, CancellationToken ct)
    {
        var lastSeq = await db.Chatrooms.Where(r => r.Id == chatroomId).Select(r => (long?)r.LastSeq).FirstOrDefaultAsync(ct);
        if (lastSeq is null)
        {
            return false;
        }
        db.Members.Add(new Member { ChatroomId = chatroomId, UserId = userId, Role = role, JoinedAt = Clock.Now(), LastReadSeq = lastSeq.Value });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e))
        {
            db.ChangeTracker.Clear();
            return true; // joined concurrently
        }
        catch (DbUpdateException e) when (DbErrors.IsForeignKeyViolation(e))
        {
            db.ChangeTracker.Clear();
            return false; // the room was deleted meanwhile
        }
        db.ChangeTracker.Clear();
        await events.MemberJoinedAsync(chatroomId, userId, await db.UsernameAsync(userId, ct), lastSeq.Value);
        return true;
    }

    /// <summary>Removes the user; an owner's room passes to its longest-standing remaining member.</summary>
    public async Task RemoveAsync(Guid chatroomId, Guid userId, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var role = await db.Members.Where(m => m.ChatroomId == chatroomId && m.UserId == userId).Select(m => (MemberRole?)m.Role).FirstOrDefaultAsync(ct);
        if (role is null)
        {
            return;
        }
        await db.Members.Where(m => m.ChatroomId == chatroomId && m.UserId == userId).ExecuteDeleteAsync(ct);
        if (role == MemberRole.Owner)
        {
            var heir = await db.Members.Where(m => m.ChatroomId == chatroomId).OrderBy(m => m.JoinedAt).ThenBy(m => m.UserId).Select(m => (Guid?)m.UserId).FirstOrDefaultAsync(ct);
            if (heir is { } heirId)
            {
                await db.Members.Where(m => m.ChatroomId == chatroomId && m.UserId == heirId)
                    .ExecuteUpdateAsync(s => s.SetProperty(m => m.Role, MemberRole.Owner), ct);
            }
        }
        await transaction.CommitAsync(ct);
        await events.MemberLeftAsync(chatroomId, userId, await db.UsernameAsync(userId, ct));
    }
}
