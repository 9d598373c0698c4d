using System.Linq.Expressions;
using FluentValidation;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Infrastructure.Conversations;

/// <summary>The contract's rules for message fields, shared by REST and socket sends.</summary>
public static class MessageRules
{
    public const int ContentMax = 4000, ClientMessageIdMax = 64, AttachmentsMax = 10;

    public const string AttachmentsUnavailable = "Each attachment must be an upload of yours that no message uses yet.";

    /// <summary>
    /// A message's content and attachments: content as <see cref="ValidContent"/>, except that beside attachments it
    /// may be empty; at most <see cref="AttachmentsMax"/> distinct attachment ids.
    /// </summary>
    public static void ValidMessageBody<T>(this AbstractValidator<T> validator, Expression<Func<T, string?>> content,
        Expression<Func<T, IReadOnlyList<Guid>?>> attachmentIds)
    {
        var attachments = attachmentIds.Compile();
        validator.RuleFor(content).ValidContent().When(r => attachments(r) is not { Count: > 0 });
        validator.RuleFor(content).MaximumLength(ContentMax).PlainText().When(r => attachments(r) is { Count: > 0 });
        validator.RuleFor(attachmentIds)
            .Must(ids => ids is null || ids.Count <= AttachmentsMax).WithMessage($"At most {AttachmentsMax} attachments.")
            .Must(ids => ids is null || (ids.Distinct().Count() == ids.Count && !ids.Contains(Guid.Empty)))
            .WithMessage("Attachment ids must be distinct upload ids.");
    }

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
