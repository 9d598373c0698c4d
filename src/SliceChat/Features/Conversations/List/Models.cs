using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Conversations.List;

public sealed record Request : CallerRequest;

public sealed record Partner(Guid Id, string Username);

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
