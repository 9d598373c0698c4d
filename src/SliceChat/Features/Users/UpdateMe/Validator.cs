using FastEndpoints;
using FluentValidation;
using SliceChat.Infrastructure.Accounts;

namespace SliceChat.Features.Users.UpdateMe;

public sealed class Validator : Validator<Request>
{
    public Validator()
    {
        RuleFor(r => r.CurrentPassword).NotEmpty().MaximumLength(AccountRules.PasswordMax);
        RuleFor(r => r.Username).ValidUsername().When(r => r.Username is not null);
        RuleFor(r => r.Email).ValidEmail().When(r => r.Email is not null);
        RuleFor(r => r.Password).ValidPassword().When(r => r.Password is not null);
    }
}
