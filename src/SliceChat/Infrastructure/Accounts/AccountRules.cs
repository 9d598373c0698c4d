using System.Net.Mail;
using FluentValidation;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Infrastructure.Accounts;

/// <summary>The contract's rules for account fields, shared by register and profile update.</summary>
public static partial class AccountRules
{
    public const int UsernameMin = 3, UsernameMax = 32, EmailMax = 254, PasswordMin = 8, PasswordMax = 128;

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9_.-]+$")]
    private static partial System.Text.RegularExpressions.Regex UsernameCharacters();

    public static IRuleBuilderOptions<T, string?> ValidUsername<T>(this IRuleBuilder<T, string?> rule) => rule
        .NotEmpty()
        .Length(UsernameMin, UsernameMax)
        .Must(u => u is null || UsernameCharacters().IsMatch(u)).WithMessage("Username may contain only letters, digits, '_', '.' and '-'.");

    public static IRuleBuilderOptions<T, string?> ValidEmail<T>(this IRuleBuilder<T, string?> rule) => rule
        .NotEmpty()
        .MaximumLength(EmailMax)
        .PlainText()
        .Must(IsEmail).WithMessage("Email must be a valid address.");

    public static IRuleBuilderOptions<T, string?> ValidPassword<T>(this IRuleBuilder<T, string?> rule) => rule
        .NotEmpty()
        .Length(PasswordMin, PasswordMax);

    public static string Normalize(string value) => value.Trim().ToLowerInvariant();

    private static bool IsEmail(string? email)
    {
        if (string.IsNullOrWhiteSpace(email) || email != email.Trim() || email.Contains(' ', StringComparison.Ordinal))
        {
            return false;
        }
        try
        {
            var address = new MailAddress(email);
            var at = email.LastIndexOf('@');
            return address.Address == email && at > 0 && email.IndexOf('.', at) > at + 1 && !email.EndsWith('.');
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
