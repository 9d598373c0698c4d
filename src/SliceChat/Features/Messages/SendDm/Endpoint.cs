using FastEndpoints;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Messages.SendDm;

public sealed record Request : CallerRequest
{
    public Guid? RecipientId { get; init; }
    public string? Content { get; init; }
    public string? ClientMessageId { get; init; }
    public IReadOnlyList<Guid>? AttachmentIds { get; init; }
}

public sealed class Validator : Validator<Request>
{
    public Validator()
    {
        RuleFor(r => r.RecipientId).NotNull().NotEqual(Guid.Empty);
        this.ValidMessageBody(r => r.Content, r => r.AttachmentIds);
        RuleFor(r => r.ClientMessageId).ValidClientMessageId();
    }
}

public sealed class Endpoint(MessageWriter writer)
    : Endpoint<Request, Results<Created<MessageResponse>, Ok<MessageResponse>, ValidationProblem, ProblemHttpResult>>
{
    public override void Configure()
    {
        Post(ApiRoutes.DirectMessages);
        Summary(s =>
        {
            s.Summary = "Send a direct message";
            s.Description = "The pair's conversation is created on first use (exactly one per pair).";
            s.ExampleRequest = new Request { RecipientId = Guid.Empty, Content = "Hi!", ClientMessageId = "c-1" };
        });
    }

    public override async Task<Results<Created<MessageResponse>, Ok<MessageResponse>, ValidationProblem, ProblemHttpResult>> ExecuteAsync(
        Request request, CancellationToken ct) =>
        SendResultHttp.ToHttp(await writer.SendDirectAsync(request.RecipientId!.Value, request.CallerId, request.Content ?? "", request.ClientMessageId, request.AttachmentIds, ct), HttpContext);
}
