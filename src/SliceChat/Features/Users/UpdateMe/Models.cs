namespace SliceChat.Features.Users.UpdateMe;

public sealed record Request(string? Username, string? Email, string? Password, string? CurrentPassword);
