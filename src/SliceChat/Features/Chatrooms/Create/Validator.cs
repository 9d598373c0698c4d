using FastEndpoints;
using FluentValidation;
using SliceChat.Infrastructure.Conversations;

namespace SliceChat.Features.Chatrooms.Create;

public sealed class Validator : Validator<Request>
{
    public const int MaxInitialMembers = 100;

    public Validator()
    {
        RuleFor(r => r.Name).ValidRoomName();
        RuleFor(r => r.Description).ValidRoomDescription();
        RuleFor(r => r.MemberIds).Must(ids => ids is null || ids.Count <= MaxInitialMembers)
            .WithMessage($"At most {MaxInitialMembers} initial members.");
    }
}
