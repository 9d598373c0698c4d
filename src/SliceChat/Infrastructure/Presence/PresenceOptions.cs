namespace SliceChat.Infrastructure.Presence;

/// <summary>Settings under <c>Presence:</c>.</summary>
public sealed class PresenceOptions
{
    public const string Section = "Presence";

    /// <summary>
    /// How long a user stays online after their instance stopped renewing their sockets (it crashed or lost Redis): each
    /// instance renews its sockets every third of this (or of <c>Limits:SocketSlotSeconds</c>, whichever is shorter).
    /// </summary>
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>Most users one socket may follow with <c>presence.subscribe</c>, and most ids of one <c>GET /users/presence</c>.</summary>
    public int MaxIds { get; set; } = 200;

    /// <summary>
    /// Database lookups of direct partners this instance runs at once for presence changes: a burst of changes (an
    /// instance's users going offline together) waits its turn rather than draining the connection pool.
    /// </summary>
    public int LookupsInFlight { get; set; } = 4;

    /// <summary>Most presence changes one lookup of direct partners serves (the changes waiting when it starts).</summary>
    public int LookupBatch { get; set; } = 500;
}
