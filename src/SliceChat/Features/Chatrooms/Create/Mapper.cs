using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Features.Chatrooms.Create;

public static class Mapper
{
    public static Chatroom ToEntity(Request request)
    {
        var now = Clock.Now();
        return new Chatroom
        {
            Id = SequentialIds.Next(),
            Kind = ChatroomKind.Group,
            Name = request.Name!.Trim(),
            Description = request.Description,
            IsPrivate = request.IsPrivate,
            CreatedBy = request.CallerId,
            CreatedAt = now,
            LastActivityAt = now,
        };
    }

    public static RoomResponse ToResponse(Chatroom room, int memberCount) =>
        new(room.Id, "group", room.Name, room.Description, room.IsPrivate, room.CreatedBy, room.CreatedAt, memberCount, room.LastSeq);
}
