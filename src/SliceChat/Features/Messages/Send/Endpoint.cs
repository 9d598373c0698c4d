using SliceChat.Infrastructure.Conversations;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Messages.Send;

public sealed record Request(string? Content, string? ClientMessageId);

public sealed class Validator : AbstractValidator<Request>
{
    public Validator()
    {
        RuleFor(r => r.Content).ValidContent();
        RuleFor(r => r.ClientMessageId).ValidClientMessageId();
    }
}

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/chatrooms/{id:guid}/messages";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapPost(Route, Handle).WithName("SendMessage").WithTags("Messages").RequireAuthorization().WithValidation<Request>()
            .WithSummary("Post to a room; a repeated client_message_id answers 200 with the original");

    public static async Task<Results<Created<MessageResponse>, Ok<MessageResponse>, ValidationProblem, ProblemHttpResult>> Handle(
        Guid id, Request request, CurrentUser user, MessageWriter writer, HttpContext http, CancellationToken ct) =>
        SendResultHttp.ToHttp(await writer.SendToRoomAsync(id, user.Id, request.Content!, request.ClientMessageId, ct), http);
}
