namespace SliceChat.Infrastructure.Security;

/// <summary>The OAuth2 token response of login and refresh.</summary>
public sealed record TokenResponse(string AccessToken, string TokenType, int ExpiresIn, string RefreshToken)
{
    public static TokenResponse From(IssuedTokens tokens) =>
        new(tokens.Access.Token, "bearer", tokens.Access.ExpiresInSeconds, tokens.RefreshToken);
}
