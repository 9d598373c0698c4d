namespace SliceChat.Infrastructure.Messaging;

/// <summary>Every channel name (and Redis key) the app uses, built in one place under one prefix (<c>Redis:ChannelPrefix</c>).</summary>
public sealed class ChannelNames(string prefix)
{
    public string Prefix { get; } = prefix;

    /// <summary>Events of one conversation (messages, reads, typing, membership).</summary>
    public string Conversation(Guid chatroomId) => $"{Prefix}:conversation:{chatroomId:N}";

    /// <summary>Commands for one user's sockets: follow a conversation they just joined.</summary>
    public string User(Guid userId) => $"{Prefix}:user:{userId:N}";

    /// <summary>The conversation whose channel <paramref name="channel"/> is, if it is one.</summary>
    public bool IsConversation(string channel, out Guid chatroomId) => TryParse(channel, $"{Prefix}:conversation:", out chatroomId);

    /// <summary>The user whose channel <paramref name="channel"/> is, if it is one.</summary>
    public bool IsUser(string channel, out Guid userId) => TryParse(channel, $"{Prefix}:user:", out userId);

    private static bool TryParse(string channel, string head, out Guid id)
    {
        id = Guid.Empty;
        return channel.StartsWith(head, StringComparison.Ordinal) && Guid.TryParseExact(channel.AsSpan(head.Length), "N", out id);
    }

    /// <summary>Login sessions revoked on any instance.</summary>
    public string Sessions => $"{Prefix}:sessions";

    /// <summary>The Redis key of one user's open sockets (<c>Limits:SocketsPerUser</c>).</summary>
    public string SocketSlots(Guid userId) => $"{Prefix}:sockets:{userId:N}";

    /// <summary>Presence changes of every user (each instance hands them to its own interested sockets).</summary>
    public string Presence => $"{Prefix}:presence";

    /// <summary>The Redis key of the users online: a sorted set scored by when their newest socket slot expires.</summary>
    public string OnlineUsers => $"{Prefix}:online";

    /// <summary>The Redis key of when each user was last seen (a hash of unix milliseconds, set as their last socket goes).</summary>
    public string LastSeen => $"{Prefix}:last-seen";

    /// <summary>The Redis key of one rate-limit bucket (<paramref name="key"/>: a user, a client address, ...).</summary>
    public string RateLimit(string rule, string key) => $"{Prefix}:ratelimit:{rule}:{key}";
}
