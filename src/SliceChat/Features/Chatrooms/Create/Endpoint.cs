using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Chatrooms.Create;

public sealed class Endpoint(ChatDbContext db, ChatEvents events) : Endpoint<Request, Results<Created<RoomResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Post(ApiRoutes.Chatrooms);
        Options(b => b.RateLimited(RateLimitPolicies.Writes));
        Summary(s =>
        {
            s.Summary = "Create a group room; the creator is its owner and first member";
            s.ExampleRequest = new Request { Name = "general", Description = "Everything else", IsPrivate = false, MemberIds = [] };
        });
    }

    public override async Task<Results<Created<RoomResponse>, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var memberIds = (request.MemberIds ?? []).Where(id => id != request.CallerId).Distinct().ToList();
        var members = await db.Users.Where(u => memberIds.Contains(u.Id) && u.DeletedAt == null).Select(u => new { u.Id, u.Username }).ToListAsync(ct);
        if (members.Count != memberIds.Count)
        {
            var unknown = memberIds.Except(members.Select(m => m.Id)).First();
            return Problems.NotFound($"No such user: {unknown}.");
        }

        var room = Mapper.ToEntity(request);
        db.Chatrooms.Add(room);
        db.Members.Add(new Member { ChatroomId = room.Id, UserId = request.CallerId, Role = MemberRole.Owner, JoinedAt = room.CreatedAt });
        db.Members.AddRange(members.Select(m => new Member { ChatroomId = room.Id, UserId = m.Id, Role = MemberRole.Member, JoinedAt = room.CreatedAt }));
        await db.SaveChangesAsync(ct);

        await events.MemberJoinedAsync(room.Id, request.CallerId, await db.UsernameAsync(request.CallerId, ct), 0);
        foreach (var member in members)
        {
            await events.MemberJoinedAsync(room.Id, member.Id, member.Username, 0);
        }
        return TypedResults.Created(ApiRoutes.Fill(ApiRoutes.Chatroom, room.Id), Mapper.ToResponse(room, members.Count + 1));
    }
}
