using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Chatrooms.Create;

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/chatrooms";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapPost(Route, Handle).WithName("CreateChatroom").WithTags("Chatrooms").RequireAuthorization().WithValidation<Request>()
            .WithSummary("Create a group room; the creator is its owner and first member");

    public static async Task<Results<Created<RoomResponse>, ValidationProblem, ProblemHttpResult>> Handle(
        Request request, CurrentUser user, ChatDbContext db, ChatEvents events, CancellationToken ct)
    {
        var memberIds = (request.MemberIds ?? []).Where(id => id != user.Id).Distinct().ToList();
        var members = await db.Users.Where(u => memberIds.Contains(u.Id) && u.DeletedAt == null).Select(u => new { u.Id, u.Username }).ToListAsync(ct);
        if (members.Count != memberIds.Count)
        {
            var unknown = memberIds.Except(members.Select(m => m.Id)).First();
            return Problems.NotFound($"No such user: {unknown}.");
        }

        var now = Clock.Now();
        var room = new Chatroom
        {
            Id = Guid.CreateVersion7(),
            Kind = ChatroomKind.Group,
            Name = request.Name!.Trim(),
            Description = request.Description,
            IsPrivate = request.IsPrivate,
            CreatedBy = user.Id,
            CreatedAt = now,
            LastActivityAt = now,
        };
        db.Chatrooms.Add(room);
        db.Members.Add(new Member { ChatroomId = room.Id, UserId = user.Id, Role = MemberRole.Owner, JoinedAt = now });
        db.Members.AddRange(members.Select(m => new Member { ChatroomId = room.Id, UserId = m.Id, Role = MemberRole.Member, JoinedAt = now }));
        await db.SaveChangesAsync(ct);

        await events.MemberJoinedAsync(room.Id, user.Id, await db.UsernameAsync(user.Id, ct), 0);
        foreach (var member in members)
        {
            await events.MemberJoinedAsync(room.Id, member.Id, member.Username, 0);
        }
        var response = new RoomResponse(room.Id, "group", room.Name, room.Description, room.IsPrivate, room.CreatedBy, room.CreatedAt, members.Count + 1, 0);
        return TypedResults.Created(Get.Endpoint.RouteFor(room.Id), response);
    }
}
