namespace SliceChat.Features.Auth.Login;

/// <summary>JSON or OAuth2 password-flow form; <c>username</c> may be the email.</summary>
public sealed record Request
{
    public string? Username { get; init; }
    public string? Password { get; init; }
}

