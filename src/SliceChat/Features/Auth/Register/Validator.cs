using FluentValidation;
using SliceChat.Features.Users;

namespace SliceChat.Features.Auth.Register;

public sealed class Validator : AbstractValidator<Request>
{
    public Validator()
    {
        RuleFor(r => r.Username).ValidUsername();
        RuleFor(r => r.Email).ValidEmail();
        RuleFor(r => r.Password).ValidPassword();
    }
}
