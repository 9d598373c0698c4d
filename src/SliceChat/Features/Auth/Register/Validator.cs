using FastEndpoints;
using FluentValidation;
using SliceChat.Infrastructure.Accounts;

namespace SliceChat.Features.Auth.Register;

public sealed class Validator : Validator<Request>
{
    public Validator()
    {
        RuleFor(r => r.Username).ValidUsername();
        RuleFor(r => r.Email).ValidEmail();
        RuleFor(r => r.Password).ValidPassword();
    }
}
