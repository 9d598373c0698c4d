using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Persistence;

namespace SliceChat.Infrastructure.Conversations;

/// <summary>Moves read markers, for REST and sockets: forward only, never past the conversation's newest seq.</summary>
public sealed class ReadMarkers(ChatDbContext db, ChatEvents events)
{
    /// <summary>The lowest seq a client may mark read: 0 is before the first message.</summary>
    public const long MinSeq = 0;

    /// <returns>false when the caller is not a member of the conversation.</returns>
    public async Task<bool> MarkAsync(Guid chatroomId, Guid userId, long seq, CancellationToken ct)
    {
        var state = await (
            from m in db.Members
            join r in db.Chatrooms on m.ChatroomId equals r.Id
            where m.ChatroomId == chatroomId && m.UserId == userId
            select new { r.LastSeq }).FirstOrDefaultAsync(ct);
        if (state is null)
        {
            return false;
        }
        var target = Math.Min(seq, state.LastSeq);
        var moved = await db.Members.Where(m => m.ChatroomId == chatroomId && m.UserId == userId && m.LastReadSeq < target)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.LastReadSeq, target), ct);
        if (moved > 0)
        {
            await events.PublishAsync(chatroomId, ChatEvents.Read, new ReadMarker(chatroomId, userId, target));
        }
        return true;
    }
}
