using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Infrastructure.Conversations;

/// <summary>Who shares a conversation with a user: what decides whose presence the user may see.</summary>
public static class ConversationPeers
{
    /// <summary>Those of <paramref name="userIds"/> (the user excluded) who share a conversation, direct or group, with <paramref name="userId"/>.</summary>
    public static Task<List<Guid>> SharingWithAsync(this ChatDbContext db, Guid userId, IReadOnlyCollection<Guid> userIds, CancellationToken ct) =>
        (from mine in db.Members.Where(m => m.UserId == userId)
         join theirs in db.Members on mine.ChatroomId equals theirs.ChatroomId
         where theirs.UserId != userId && userIds.Contains(theirs.UserId)
         select theirs.UserId).Distinct().ToListAsync(ct);

    /// <summary>The partners of the direct conversations of each of <paramref name="userIds"/>, by user.</summary>
    public static async Task<ILookup<Guid, Guid>> DirectPartnersAsync(this ChatDbContext db, IReadOnlyCollection<Guid> userIds, CancellationToken ct) =>
        (await (from mine in db.Members.Where(m => userIds.Contains(m.UserId))
                join room in db.Chatrooms.Where(r => r.Kind == ChatroomKind.Direct) on mine.ChatroomId equals room.Id
                join theirs in db.Members on room.Id equals theirs.ChatroomId
                where theirs.UserId != mine.UserId
                select new { mine.UserId, PartnerId = theirs.UserId }).Distinct().ToListAsync(ct))
        .ToLookup(p => p.UserId, p => p.PartnerId);
}
