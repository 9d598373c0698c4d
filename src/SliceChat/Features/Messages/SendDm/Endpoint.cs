using SliceChat.Infrastructure.Conversations;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Messages.SendDm;

public sealed record Request(Guid? RecipientId, string? Content, string? ClientMessageId);

public sealed class Validator : AbstractValidator<Request>
{
    public Validator()
    {
        RuleFor(r => r.RecipientId).NotNull().NotEqual(Guid.Empty);
        RuleFor(r => r.Content).ValidContent();
        RuleFor(r => r.ClientMessageId).ValidClientMessageId();
    }
}

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/messages/dm";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapPost(Route, Handle).WithName("SendDirectMessage").WithTags("Messages").RequireAuthorization().WithValidation<Request>()
            .WithSummary("Send a direct message; the pair's conversation is created on first use");

    public static async Task<Results<Created<MessageResponse>, Ok<MessageResponse>, ValidationProblem, ProblemHttpResult>> Handle(
        Request request, CurrentUser user, MessageWriter writer, HttpContext http, CancellationToken ct) =>
        SendResultHttp.ToHttp(await writer.SendDirectAsync(request.RecipientId!.Value, user.Id, request.Content!, request.ClientMessageId, ct), http);
}
