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

/// <summary>A conversation as a sender may see it, with the sender's current name and a direct conversation's partner.</summary>
public sealed record SenderAccess(RoomAccess Access, string SenderName, Guid? Partner);

public sealed class ChatroomAccess(ChatDbContext db)
{
    /// <summary>
    /// The conversation as the user may see it, or null when it does not exist or is invisible to them
    /// (a private room or a direct conversation they are not in), so that ids cannot be probed.
    /// </summary>
    public async Task<RoomAccess?> FindAsync(Guid chatroomId, Guid userId, CancellationToken ct)
    {
        var found = await (db switch
        {
            PostgresChatDbContext postgres => Compiled<PostgresChatDbContext>.Access(postgres, chatroomId, userId, ct),
            SqliteChatDbContext sqlite => Compiled<SqliteChatDbContext>.Access(sqlite, chatroomId, userId, ct),
            _ => throw new NotSupportedException(db.GetType().Name),
        });
        return found is not null && IsVisible(found.Room, found.Membership) ? found : null;
    }

    /// <summary>
    /// <see cref="FindAsync"/> for many (conversation, user) pairs in one query (the coalesced socket checks,
    /// <see cref="CoalescedRoomAccess"/>); a pair left out is not found or invisible to its user.
    /// </summary>
    public async Task<IReadOnlyDictionary<(Guid ChatroomId, Guid UserId), RoomAccess>> FindManyAsync(
        IReadOnlyList<(Guid ChatroomId, Guid UserId)> wanted, CancellationToken ct)
    {
        var visible = new Dictionary<(Guid ChatroomId, Guid UserId), RoomAccess>();
        if (wanted is [var (onlyRoom, onlyUser)])
        {
            if (await FindAsync(onlyRoom, onlyUser, ct) is { } access)
            {
                visible[(onlyRoom, onlyUser)] = access;
            }
            return visible;
        }
        List<Guid> roomIds = [.. wanted.Select(w => w.ChatroomId).Distinct()], userIds = [.. wanted.Select(w => w.UserId).Distinct()];
        var rooms = await db.Chatrooms.AsNoTracking().TagWith(PreparedStatements.Tag).Where(r => roomIds.Contains(r.Id))
            .Select(r => new { Room = r, Members = db.Members.Where(m => m.ChatroomId == r.Id && userIds.Contains(m.UserId)).ToList() })
            .ToDictionaryAsync(r => r.Room.Id, ct);
        foreach (var (chatroomId, userId) in wanted)
        {
            if (rooms.TryGetValue(chatroomId, out var found)
                && found.Members.FirstOrDefault(m => m.UserId == userId) is var membership && IsVisible(found.Room, membership))
            {
                visible[(chatroomId, userId)] = new RoomAccess(found.Room, membership);
            }
        }
        return visible;
    }

    /// <summary>
    /// Like <see cref="FindAsync"/>, in the same one query, for a sender: also their name as it is now
    /// and, in a direct conversation, the partner (null when the partner deleted their account).
    /// </summary>
    public async Task<SenderAccess?> FindForSenderAsync(Guid chatroomId, Guid userId, CancellationToken ct)
    {
        var found = await SenderQuery(db, chatroomId, userId, ct);
        if (found?.SenderName is null || !IsVisible(found.Room, found.Membership))
        {
            return null;
        }
        return new SenderAccess(new RoomAccess(found.Room, found.Membership), found.SenderName, found.Partner);
    }

    private sealed record SenderRow(Chatroom Room, Member? Membership, string? SenderName, Guid? Partner);

    private static Task<SenderRow?> SenderQuery(ChatDbContext db, Guid chatroomId, Guid userId, CancellationToken ct) => db switch
    {
        PostgresChatDbContext postgres => Compiled<PostgresChatDbContext>.Sender(postgres, chatroomId, userId, ct),
        SqliteChatDbContext sqlite => Compiled<SqliteChatDbContext>.Sender(sqlite, chatroomId, userId, ct),
        _ => throw new NotSupportedException(db.GetType().Name),
    };

    /// <summary>
    /// Compiled once: every room route (and a send checked outside the batch statement) runs one of them, and building and looking up their
    /// expression trees cost more CPU than the queries themselves. One set per provider's context type,
    /// since a compiled query keeps the model of the first context it ran on.
    /// </summary>
    private static class Compiled<TContext> where TContext : ChatDbContext
    {
        public static readonly Func<TContext, Guid, Guid, CancellationToken, Task<RoomAccess?>> Access =
            EF.CompileAsyncQuery((TContext db, Guid chatroomId, Guid userId, CancellationToken ct) => (
                from r in db.Chatrooms.AsNoTracking().TagWith(PreparedStatements.Tag)
                where r.Id == chatroomId
                select new RoomAccess(r, db.Members.FirstOrDefault(m => m.ChatroomId == r.Id && m.UserId == userId)))
                .FirstOrDefault());

        public static readonly Func<TContext, Guid, Guid, CancellationToken, Task<SenderRow?>> Sender =
            EF.CompileAsyncQuery((TContext db, Guid chatroomId, Guid userId, CancellationToken ct) => (
                from r in db.Chatrooms.AsNoTracking().TagWith(PreparedStatements.Tag)
                where r.Id == chatroomId
                select new SenderRow(
                    r,
                    db.Members.FirstOrDefault(m => m.ChatroomId == r.Id && m.UserId == userId),
                    db.Users.Where(u => u.Id == userId).Select(u => u.Username).FirstOrDefault(),
                    r.Kind == ChatroomKind.Direct
                        ? db.Members.Where(m => m.ChatroomId == r.Id && m.UserId != userId).Select(m => (Guid?)m.UserId).FirstOrDefault()
                        : null))
                .FirstOrDefault());
    }

    private static bool IsVisible(Chatroom room, Member? membership) =>
        membership is not null || (room.Kind == ChatroomKind.Group && !room.IsPrivate);

    /// <summary>Like <see cref="FindAsync"/>, for the routes that manage group rooms: a direct conversation is not found there.</summary>
    public async Task<RoomAccess?> FindGroupAsync(Guid chatroomId, Guid userId, CancellationToken ct)
    {
        var access = await FindAsync(chatroomId, userId, ct);
        return access?.Room.Kind == ChatroomKind.Group ? access : null;
    }
}

/// <summary>
/// <see cref="ChatroomAccess.FindAsync"/> for the socket handshakes, coalesced (<see cref="CoalescedLookup{TKey, TValue}"/>):
/// when many sockets open at once (clients of a stopped instance coming back), the checks that arrive while one runs
/// share the next query. Each batch has a scope of its own: a socket's request scope lives as long as the socket.
/// </summary>
public sealed class CoalescedRoomAccess(IServiceScopeFactory scopes)
{
    private const int MaxBatch = 1000;

    private readonly CoalescedLookup<(Guid ChatroomId, Guid UserId), RoomAccess> lookup = new(async wanted =>
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ChatroomAccess>().FindManyAsync(wanted, CancellationToken.None);
    }, MaxBatch);

    /// <inheritdoc cref="ChatroomAccess.FindAsync"/>
    public Task<RoomAccess?> FindAsync(Guid chatroomId, Guid userId, CancellationToken ct) => lookup.GetAsync((chatroomId, userId), ct);
}
