using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Infrastructure.Conversations;

/// <summary>What a caller may do with a conversation: the visibility and membership rule, written once.</summary>
public sealed record RoomAccess(Chatroom Room, Member? Membership)
{
    public bool IsMember => Membership is not null;
    public bool IsOwner => Membership?.Role == MemberRole.Owner;
}

public sealed class ChatroomAccess(ChatDbContext db)
{
    /// <summary>
    /// The conversation as the user may see it, or null when it does not exist or is invisible to them
    /// (a private room or a direct conversation they are not in), so that ids cannot be probed.
    /// </summary>
    public async Task<RoomAccess?> FindAsync(Guid chatroomId, Guid userId, CancellationToken ct)
    {
        var found = await (
            from r in db.Chatrooms.AsNoTracking()
            where r.Id == chatroomId
            select new { Room = r, Membership = db.Members.FirstOrDefault(m => m.ChatroomId == r.Id && m.UserId == userId) })
            .FirstOrDefaultAsync(ct);
        if (found is null)
        {
            return null;
        }
        var visible = found.Membership is not null || (found.Room.Kind == ChatroomKind.Group && !found.Room.IsPrivate);
        return visible ? new RoomAccess(found.Room, found.Membership) : null;
    }

    /// <summary>Like <see cref="FindAsync"/>, for the routes that manage group rooms: a direct conversation is not found there.</summary>
    public async Task<RoomAccess?> FindGroupAsync(Guid chatroomId, Guid userId, CancellationToken ct)
    {
        var access = await FindAsync(chatroomId, userId, ct);
        return access?.Room.Kind == ChatroomKind.Group ? access : null;
    }
}
