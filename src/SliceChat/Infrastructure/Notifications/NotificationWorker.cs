using SliceChat.Infrastructure.Operations;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using SliceChat.Infrastructure.Realtime;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Infrastructure.Notifications;

/// <summary>
/// Each instance's sender of offline notifications. Every <c>Notifications:PollMilliseconds</c> it claims due outbox
/// rows (pushing their due time a lease ahead, so that no other instance takes them meanwhile and a crashed
/// instance's rows come due again), and for each: a window still open is composed once, unless its user is online
/// somewhere, muted it, left it or has read it all (then the row goes); a composed delivery is sent, deleted after a
/// 2xx, else retried with exponential back-off and jitter until <c>Notifications:RetryHours</c> after it was composed.
/// A row is deleted only once its delivery is answered or abandoned, so a crash anywhere repeats a delivery (the
/// same id) rather than losing it.
/// </summary>
public sealed partial class NotificationWorker(
    IServiceScopeFactory scopes,
    SocketSlots presence,
    WebhookSender sender,
    AppMetrics metrics,
    TimeProvider time,
    IOptions<NotificationsOptions> options,
    ILogger<NotificationWorker> logger) : BackgroundService
{
    public const string EventType = "messages.unread";

    private readonly NotificationsOptions settings = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(settings.PollMilliseconds), time);
        try
        {
            do
            {
                try
                {
                    while (await RunOnceAsync(stoppingToken) == settings.ClaimBatch)
                    {
                        // A full claim: more may be due.
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogRoundFailed(logger, e.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: claimed rows come due again when their lease ends.
        }
    }

    /// <returns>How many rows it claimed.</returns>
    private async Task<int> RunOnceAsync(CancellationToken ct)
    {
        List<ClaimedDelivery> claimed;
        await using (var scope = scopes.CreateAsyncScope())
        {
            claimed = await ClaimAsync(scope.ServiceProvider.GetRequiredService<ChatDbContext>(), ct);
        }
        await Task.WhenAll(claimed.Select(row => ProcessAsync(row, ct)));
        return claimed.Count;
    }

    /// <summary>One statement: PostgreSQL skips rows another instance is claiming at that moment; SQLite has one writer at a time.</summary>
    private Task<List<ClaimedDelivery>> ClaimAsync(ChatDbContext db, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        var leaseEnd = (now + settings.Lease).ToUnixTimeMilliseconds();
        var batch = settings.ClaimBatch;
        // SQLite's RETURNING takes no table-qualified names; PostgreSQL's needs them here (the subquery has a seq too).
        return db is PostgresChatDbContext
            ? db.Database.SqlQuery<ClaimedDelivery>($"""
                UPDATE notification_deliveries AS d SET due_at = {leaseEnd}
                FROM (SELECT seq FROM notification_deliveries WHERE due_at <= {nowMs} ORDER BY due_at LIMIT {batch} FOR UPDATE SKIP LOCKED) AS due
                WHERE d.seq = due.seq
                RETURNING d.seq AS "Seq", d.user_id AS "UserId", d.chatroom_id AS "ChatroomId", d.attempts AS "Attempts",
                    d.payload AS "Payload", d.delivery_id AS "DeliveryId", d.composed_at AS "ComposedAt"
                """).ToListAsync(ct)
            : db.Database.SqlQuery<ClaimedDelivery>($"""
                UPDATE notification_deliveries SET due_at = {leaseEnd}
                WHERE seq IN (SELECT seq FROM notification_deliveries WHERE due_at <= {nowMs} ORDER BY due_at LIMIT {batch})
                RETURNING seq AS "Seq", user_id AS "UserId", chatroom_id AS "ChatroomId", attempts AS "Attempts",
                    payload AS "Payload", delivery_id AS "DeliveryId", composed_at AS "ComposedAt"
                """).ToListAsync(ct);
    }

    private async Task ProcessAsync(ClaimedDelivery row, CancellationToken ct)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
            var rows = db.NotificationDeliveries.Where(d => d.Seq == row.Seq);
            if (row.Payload is null || row.DeliveryId is null || row.ComposedAt is null)
            {
                var deliveryId = Guid.CreateVersion7();
                var payload = await ComposeAsync(db, row, deliveryId, ct);
                if (payload is null)
                {
                    await rows.ExecuteDeleteAsync(ct); // nothing to tell
                    return;
                }
                var composedAt = time.GetUtcNow().ToUnixTimeMilliseconds();
                // Only if still open: had this claim outlived its lease, another instance's composition (its id) stands.
                if (await rows.Where(d => d.Payload == null).ExecuteUpdateAsync(s => s.SetProperty(d => d.Payload, payload)
                    .SetProperty(d => d.DeliveryId, deliveryId).SetProperty(d => d.ComposedAt, composedAt), ct) == 0)
                {
                    return;
                }
                row = row with { Payload = payload, DeliveryId = deliveryId, ComposedAt = composedAt };
            }
            var delivered = await sender.SendAsync(row.DeliveryId!.Value, row.Payload!, ct);
            metrics.WebhookDelivered(delivered);
            if (delivered)
            {
                await rows.ExecuteDeleteAsync(CancellationToken.None);
                return;
            }
            var now = time.GetUtcNow();
            if (now.ToUnixTimeMilliseconds() - row.ComposedAt!.Value > TimeSpan.FromHours(settings.RetryHours).TotalMilliseconds)
            {
                LogAbandoned(logger, row.DeliveryId!.Value, row.Attempts + 1, settings.RetryHours);
                await rows.ExecuteDeleteAsync(CancellationToken.None);
                return;
            }
            var due = (now + BackOff(row.Attempts + 1)).ToUnixTimeMilliseconds();
            await rows.ExecuteUpdateAsync(s => s.SetProperty(d => d.Attempts, d => d.Attempts + 1).SetProperty(d => d.DueAt, due), CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // The row comes due again when its lease ends.
            LogDeliveryFailed(logger, e, row.Seq);
        }
    }

    /// <summary>The n-th retry waits between half and all of first × 2^(n-1), at most <c>Notifications:RetryMaxSeconds</c>.</summary>
    private TimeSpan BackOff(int attempt)
    {
        var ceiling = Math.Min(settings.RetryMaxSeconds, settings.RetryFirstSeconds * Math.Pow(2, Math.Min(attempt - 1, 30)));
        return TimeSpan.FromSeconds(ceiling / 2 + Random.Shared.NextDouble() * ceiling / 2);
    }

    /// <summary>The webhook body, or null when there is nothing to send: the user is online, muted the conversation, left it, or has read it all.</summary>
    private async Task<string?> ComposeAsync(ChatDbContext db, ClaimedDelivery row, Guid deliveryId, CancellationToken ct)
    {
        var member = await db.Members.AsNoTracking().Where(m => m.ChatroomId == row.ChatroomId && m.UserId == row.UserId)
            .Select(m => new { m.LastReadSeq, m.Muted }).FirstOrDefaultAsync(ct);
        if (member is null || member.Muted)
        {
            return null;
        }
        var room = await db.Chatrooms.AsNoTracking().Where(r => r.Id == row.ChatroomId)
            .Select(r => new
            {
                r.Kind,
                r.Name,
                r.LastSeq,
                Partner = db.Members.Where(p => p.ChatroomId == r.Id && p.UserId != row.UserId)
                    .Join(db.Users, p => p.UserId, u => u.Id, (p, u) => u.DeletedAt == null ? u.Username : User.TombstoneName).FirstOrDefault(),
            })
            .FirstOrDefaultAsync(ct);
        if (room is null || room.LastSeq <= member.LastReadSeq)
        {
            return null;
        }
        if ((await presence.StatesAsync([row.UserId]))[row.UserId].Online)
        {
            return null;
        }
        var messages = await db.Messages.AsNoTracking()
            .Where(m => m.ChatroomId == row.ChatroomId && m.Seq > member.LastReadSeq && m.SenderId != row.UserId && m.DeletedAt == null)
            .OrderByDescending(m => m.Seq).Take(NotificationsOptions.MaxMessages)
            .ResponsesAsync(db, ct);
        if (messages.Count == 0)
        {
            return null;
        }
        var direct = room.Kind == ChatroomKind.Direct;
        var body = new UnreadMessages(EventType, deliveryId, row.UserId,
            new UnreadChatroom(row.ChatroomId, direct ? "direct" : "group", direct ? room.Partner ?? User.TombstoneName : room.Name),
            [.. messages.OrderBy(m => m.Seq)], room.LastSeq - member.LastReadSeq);
        return JsonSerializer.Serialize(body, SliceServices.JsonOptions);
    }

    /// <summary>A claimed outbox row, as the claim statement returns it.</summary>
    private sealed record ClaimedDelivery(long Seq, Guid UserId, Guid ChatroomId, int Attempts, string? Payload, Guid? DeliveryId, long? ComposedAt);

    [LoggerMessage(LogLevel.Warning, "Looking for due notifications failed ({Reason}); looking again at the next round")]
    private static partial void LogRoundFailed(ILogger logger, string reason);

    [LoggerMessage(LogLevel.Warning, "Handling notification row {Seq} failed; it comes due again when its claim ends")]
    private static partial void LogDeliveryFailed(ILogger logger, Exception exception, long seq);

    [LoggerMessage(LogLevel.Error, "Webhook delivery {DeliveryId} abandoned after {Attempts} attempts over {Hours} h")]
    private static partial void LogAbandoned(ILogger logger, Guid deliveryId, int attempts, int hours);
}

/// <summary>The webhook body.</summary>
public sealed record UnreadMessages(string Type, Guid Id, Guid UserId, UnreadChatroom Chatroom, List<MessageResponse> Messages, long UnreadCount);

public sealed record UnreadChatroom(Guid Id, string Kind, string Name);
