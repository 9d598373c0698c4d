using FluentValidation;

namespace SliceChat.Features.Chatrooms.Create;

public sealed class Validator : AbstractValidator<Request>
{
    public const int MaxInitialMembers = 100;

    public Validator()
    {
        RuleFor(r => r.Name).NotNull().Must(n => n?.Trim().Length is >= 1 and <= 100)
            .WithMessage("'Name' must be 1-100 characters after trimming.");
        RuleFor(r => r.Description).MaximumLength(1000);
        RuleFor(r => r.MemberIds).Must(ids => ids is null || ids.Count <= MaxInitialMembers)
            .WithMessage($"At most {MaxInitialMembers} initial members.");
    }
}
