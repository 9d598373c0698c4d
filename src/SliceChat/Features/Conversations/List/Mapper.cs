using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Features.Conversations.List;

/// <summary>One row of the conversations query.</summary>
public sealed record ConversationRow(Guid Id, ChatroomKind Kind, string Name, Guid? PartnerId, string? PartnerName, long LastSeq, long LastReadSeq, DateTimeOffset LastActivityAt);

public static class Mapper
{
    public static Response ToResponse(ConversationRow c, MessageResponse? lastMessage, bool partnerOnline) => new(
        c.Id,
        c.Kind == ChatroomKind.Direct ? "direct" : "group",
        c.Kind == ChatroomKind.Direct ? c.PartnerName ?? User.TombstoneName : c.Name,
        c.PartnerId is { } partnerId ? new Partner(partnerId, c.PartnerName!, partnerOnline ? "online" : "offline") : null,
        lastMessage,
        c.LastSeq,
        c.LastReadSeq,
        Math.Max(0, c.LastSeq - c.LastReadSeq),
        c.LastActivityAt);
}
