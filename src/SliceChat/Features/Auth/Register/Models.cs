namespace SliceChat.Features.Auth.Register;

public sealed record Request
{
    public string? Username { get; init; }
    public string? Email { get; init; }
    public string? Password { get; init; }
}
