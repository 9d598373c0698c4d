using FluentValidation;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Infrastructure.Conversations;

/// <summary>The contract's rules for message fields, shared by REST and socket sends.</summary>
public static class MessageRules
{
    public const int ContentMax = 4000, ClientMessageIdMax = 64;

    public static IRuleBuilderOptions<T, string?> ValidContent<T>(this IRuleBuilder<T, string?> rule) => rule
        .NotNull().WithMessage("'Content' is required.")
        .Must(c => !string.IsNullOrWhiteSpace(c)).WithMessage("'Content' must not be empty or only white space.")
        .MaximumLength(ContentMax)
        .PlainText();

    public static IRuleBuilderOptions<T, string?> ValidClientMessageId<T>(this IRuleBuilder<T, string?> rule) => rule
        .Must(id => id is null || (id.Length is > 0 and <= ClientMessageIdMax && id.Trim().Length == id.Length))
        .WithMessage($"'Client Message Id' must be 1-{ClientMessageIdMax} characters without surrounding white space.")
        .PlainText();
}
