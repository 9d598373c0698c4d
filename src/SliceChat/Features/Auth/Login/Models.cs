namespace SliceChat.Features.Auth.Login;

/// <summary>JSON or OAuth2 password-flow form; <c>username</c> may be the email.</summary>
public sealed record Request
{
    public string? Username { get; init; }
    public string? Password { get; init; }

    /// <summary>Kept with the login session, so the user can tell their sessions apart.</summary>
    [FastEndpoints.FromHeader("User-Agent", IsRequired = false)]
    public string? UserAgent { get; init; }
}

