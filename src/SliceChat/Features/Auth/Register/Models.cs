namespace SliceChat.Features.Auth.Register;

public sealed record Request(string? Username, string? Email, string? Password);
