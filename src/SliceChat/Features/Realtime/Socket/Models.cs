namespace SliceChat.Features.Realtime.Socket;

/// <summary>
/// Any client frame: <c>type</c> says which fields matter. Frames without a type are the reference
/// clients' sends: <c>{recipient_id, content}</c> is a DM, <c>{content}</c> on a room socket posts there.
/// </summary>
public sealed record ClientFrame(
    string? Type,
    Guid? RecipientId,
    Guid? ChatroomId,
    string? Content,
    string? ClientMessageId,
    long? Seq,
    long? AfterSeq,
    string? Token,
    IReadOnlyList<Guid>? AttachmentIds,
    List<Guid>? UserIds);

/// <summary>The <c>typing</c> event other members see.</summary>
public sealed record TypingBody(Guid ChatroomId, Guid UserId, string Username);
