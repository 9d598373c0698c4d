using FluentValidation;

namespace SliceChat.Infrastructure.Slices;

/// <summary>The contract's rule for text fields: no C0 control characters but tab, line feed and carriage return.</summary>
public static class TextRules
{
    public static bool IsPlainText(string? text) =>
        text is null || !text.Any(c => c < ' ' && c is not ('\t' or '\n' or '\r'));

    public static IRuleBuilderOptions<T, string?> PlainText<T>(this IRuleBuilder<T, string?> rule) => rule
        .Must(IsPlainText).WithMessage("'{PropertyName}' must not contain control characters (tab, line feed and carriage return are fine).");
}
