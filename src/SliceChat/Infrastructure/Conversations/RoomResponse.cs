using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Infrastructure.Conversations;

/// <summary>A group room as the API shows it.</summary>
public sealed record RoomResponse(
    Guid Id,
    string Kind,
    string Name,
    string? Description,
    bool IsPrivate,
    Guid? CreatedBy,
    DateTimeOffset CreatedAt,
    int MemberCount,
    long LastSeq);

public static class RoomMapper
{
    /// <summary>Rooms with their member count, as one SQL query.</summary>
    public static IQueryable<RoomResponse> Responses(this ChatDbContext db, IQueryable<Chatroom> rooms) =>
        rooms.Select(r => new RoomResponse(r.Id, "group", r.Name, r.Description, r.IsPrivate, r.CreatedBy, r.CreatedAt,
            db.Members.Count(m => m.ChatroomId == r.Id), r.LastSeq));

    public static Task<RoomResponse> RoomResponseAsync(this ChatDbContext db, Guid chatroomId, CancellationToken ct) =>
        db.Responses(db.Chatrooms.AsNoTracking().Where(r => r.Id == chatroomId)).SingleAsync(ct);
}
