using FastEndpoints;
using FluentValidation;
using SliceChat.Infrastructure.Accounts;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Auth.Login;

public sealed class Validator : Validator<Request>
{
    public Validator()
    {
        RuleFor(r => r.Username).NotEmpty().MaximumLength(AccountRules.EmailMax).PlainText();
        RuleFor(r => r.Password).NotEmpty().MaximumLength(AccountRules.PasswordMax);
    }
}
