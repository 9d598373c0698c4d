using FluentValidation;

namespace SliceChat.Infrastructure.Slices;

/// <summary>The one rule for a page size: absent (the slice's default) or between 1 and the slice's maximum.</summary>
public static class Paging
{
    public static IRuleBuilderOptions<T, int?> ValidLimit<T>(this IRuleBuilder<T, int?> rule, int max) => rule
        .InclusiveBetween(1, max).WithMessage($"limit must be between 1 and {max}.");
}
