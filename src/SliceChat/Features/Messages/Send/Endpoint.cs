using FastEndpoints;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Messages.Send;

public sealed record Request : ChatroomRequest
{
    public string? Content { get; init; }
    public string? ClientMessageId { get; init; }
}

public sealed class Validator : Validator<Request>
{
    public Validator()
    {
        RuleFor(r => r.Content).ValidContent();
        RuleFor(r => r.ClientMessageId).ValidClientMessageId();
    }
}

public sealed class Endpoint(MessageWriter writer)
    : Endpoint<Request, Results<Created<MessageResponse>, Ok<MessageResponse>, ValidationProblem, ProblemHttpResult>>
{
    public override void Configure()
    {
        Post(ApiRoutes.ChatroomMessages);
        Summary(s =>
        {
            s.Summary = "Post to a room";
            s.Description = "Broadcast to every member's sockets. A repeated client_message_id answers 200 with the original and broadcasts nothing.";
            s.ExampleRequest = new Request { Content = "Hello, room!", ClientMessageId = "c-1" };
        });
    }

    public override async Task<Results<Created<MessageResponse>, Ok<MessageResponse>, ValidationProblem, ProblemHttpResult>> ExecuteAsync(
        Request request, CancellationToken ct) =>
        SendResultHttp.ToHttp(await writer.SendToRoomAsync(request.Id, request.CallerId, request.Content!, request.ClientMessageId, ct), HttpContext);
}
