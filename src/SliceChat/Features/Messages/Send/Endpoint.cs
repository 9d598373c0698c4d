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
    public IReadOnlyList<Guid>? AttachmentIds { get; init; }
}

public sealed class Validator : Validator<Request>
{
    public Validator()
    {
        this.ValidMessageBody(r => r.Content, r => r.AttachmentIds);
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
            s.Description = "Broadcast to every member's sockets. A repeated client_message_id answers 200 with the original and broadcasts nothing. "
                + "attachment_ids (at most 10 of the caller's unused uploads; content may then be empty) are attached; one that is not the caller's or already used answers 400.";
            s.ExampleRequest = new Request { Content = "Hello, room!", ClientMessageId = "c-1" };
        });
    }

    public override async Task<Results<Created<MessageResponse>, Ok<MessageResponse>, ValidationProblem, ProblemHttpResult>> ExecuteAsync(
        Request request, CancellationToken ct) =>
        SendResultHttp.ToHttp(await writer.SendToRoomAsync(request.Id, request.CallerId, request.Content ?? "", request.ClientMessageId, request.AttachmentIds, ct), HttpContext);
}
