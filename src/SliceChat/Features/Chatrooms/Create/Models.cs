namespace SliceChat.Features.Chatrooms.Create;

public sealed record Request(string? Name, string? Description, bool IsPrivate = false, List<Guid>? MemberIds = null);
