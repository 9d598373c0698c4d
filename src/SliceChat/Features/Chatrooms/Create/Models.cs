using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Chatrooms.Create;

public sealed record Request : CallerRequest
{
    public string? Name { get; init; }
    public string? Description { get; init; }
    public bool IsPrivate { get; init; }
    public List<Guid>? MemberIds { get; init; }
}
