using FluentValidation;
using SliceChat.Infrastructure.Conversations;

namespace SliceChat.Features.Realtime.Socket;

/// <summary>The message fields of a send frame, under the same rules as the REST sends.</summary>
public sealed class Validator : AbstractValidator<ClientFrame>
{
    public Validator()
    {
        this.ValidMessageBody(f => f.Content, f => f.AttachmentIds);
        RuleFor(f => f.ClientMessageId).ValidClientMessageId();
        RuleFor(f => f.RecipientId).NotEqual(Guid.Empty);
    }
}
