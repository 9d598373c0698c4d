namespace SliceChat.Features.Auth.Login;

/// <summary>JSON or OAuth2 password-flow form; <c>username</c> may be the email.</summary>
public sealed record Request(string? Username, string? Password);
