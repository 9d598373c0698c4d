using FluentValidation;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Infrastructure.Conversations;

/// <summary>The contract's rules for room fields.</summary>
public static class RoomRules
{
    public const int NameMax = 100, DescriptionMax = 1000;

    public static IRuleBuilderOptions<T, string?> ValidRoomName<T>(this IRuleBuilder<T, string?> rule) => rule
        .NotNull()
        .Must(n => n?.Trim().Length is >= 1 and <= NameMax).WithMessage($"'Name' must be 1-{NameMax} characters after trimming.")
        .PlainText();

    public static IRuleBuilderOptions<T, string?> ValidRoomDescription<T>(this IRuleBuilder<T, string?> rule) => rule
        .MaximumLength(DescriptionMax)
        .PlainText();
}
