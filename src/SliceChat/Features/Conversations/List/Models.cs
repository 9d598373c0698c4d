using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Conversations.List;

public sealed record Request : CallerRequest;

/// <param name="Status">"online" or "offline".</param>
public sealed record Partner(Guid Id, string Username, string Status);

public sealed record Response(
    Guid ChatroomId,
    string Kind,
    string Name,
    Partner? Partner,
    MessageResponse? LastMessage,
    long LastSeq,
    long LastReadSeq,
    long UnreadCount,
    DateTimeOffset UpdatedAt);
