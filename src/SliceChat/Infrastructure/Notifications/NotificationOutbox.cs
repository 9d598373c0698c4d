using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Persistence;

namespace SliceChat.Infrastructure.Notifications;

/// <summary>
/// Opens the offline-notification windows of stored messages, in the transaction that stores them: for every
/// member of each message's conversation but its sender, who has not muted it, a pending delivery due
/// <c>Notifications:DelaySeconds</c> from now, unless the pair has one pending already (then the message joins it).
/// Nothing at all without <c>Notifications:WebhookUrl</c>. A batch on PostgreSQL opens them in its own statement by the
/// same rule (MessageStore's batch statement, its <c>notified</c> part, which takes <see cref="DueAt"/>); this serves the
/// rest: SQLite's batches and the sends stored one by one.
/// </summary>
public sealed class NotificationOutbox(IOptions<NotificationsOptions> options, TimeProvider time)
{
    public bool Enabled { get; } = options.Value.Enabled;

    /// <summary>When a window opened now is due (Unix milliseconds).</summary>
    public long DueAt() => time.GetUtcNow().AddSeconds(options.Value.DelaySeconds).ToUnixTimeMilliseconds();

    /// <param name="sent">The stored messages' conversations and senders.</param>
    public async Task EnqueueAsync(ChatDbContext db, IEnumerable<(Guid ChatroomId, Guid SenderId)> sent, CancellationToken ct)
    {
        if (!Enabled)
        {
            return;
        }
        var pairs = sent.Distinct().ToList();
        if (pairs.Count == 0)
        {
            return;
        }
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("Notifications must be queued in the transaction that stores their messages.");
        }
        var values = string.Join(", ", pairs.Select((_, i) => $"({{{2 * i + 1}}}, {{{2 * i + 2}}})"));
        object[] parameters = [DueAt(), .. pairs.SelectMany(p => new object[] { p.ChatroomId, p.SenderId })];
        // Only placeholders are spliced in: the values go as parameters. The same SQL on both databases (SQLite's muted is
        // 0 or 1, which NOT takes as well). In key order, so two instances' batches that share members wait on each other
        // instead of deadlocking.
        var sql = $$"""
            WITH s(chatroom_id, sender_id) AS (VALUES {{values}})
            INSERT INTO notification_deliveries (user_id, chatroom_id, due_at, attempts)
            SELECT DISTINCT m.user_id, m.chatroom_id, {0}, 0
            FROM s JOIN members AS m ON m.chatroom_id = s.chatroom_id AND m.user_id <> s.sender_id
            WHERE NOT m.muted
            ORDER BY m.user_id, m.chatroom_id
            ON CONFLICT DO NOTHING
            """;
        await db.Database.ExecuteSqlRawAsync(sql, parameters, ct);
    }
}
