namespace SliceChat.Infrastructure.Persistence.Entities;

public enum ChatroomKind
{
    Group = 0,
    Direct = 1,
}

public enum MemberRole
{
    Member = 0,
    Owner = 1,
}

/// <summary>A conversation: a group room or the direct conversation of two users.</summary>
public sealed class Chatroom
{
    public Guid Id { get; set; }
    public ChatroomKind Kind { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public bool IsPrivate { get; set; }
    public Guid? CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>The seq of the newest message; the next message takes <c>LastSeq + 1</c> in its insert's transaction.</summary>
    public long LastSeq { get; set; }
    public DateTimeOffset LastActivityAt { get; set; }
    /// <summary>For direct conversations, "{smaller user id}:{larger user id}"; unique, so a pair has one conversation.</summary>
    public string? DirectKey { get; set; }

    public static string DirectKeyOf(Guid a, Guid b) => a.CompareTo(b) < 0 ? $"{a:N}:{b:N}" : $"{b:N}:{a:N}";
}

public sealed class Member
{
    public Guid ChatroomId { get; set; }
    public Guid UserId { get; set; }
    public MemberRole Role { get; set; }
    public DateTimeOffset JoinedAt { get; set; }
    public long LastReadSeq { get; set; }
    /// <summary>No offline notifications of this conversation for this member.</summary>
    public bool Muted { get; set; }
}

public sealed class Message
{
    public Guid Id { get; set; }
    public Guid ChatroomId { get; set; }
    public long Seq { get; set; }
    public Guid SenderId { get; set; }
    public Guid? RecipientId { get; set; }
    public required string Content { get; set; }
    public string? ClientMessageId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? EditedAt { get; set; }
    public DateTimeOffset? DeletedAt { get; set; }
}
