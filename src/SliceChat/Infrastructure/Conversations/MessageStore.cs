using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Infrastructure.Conversations;

/// <summary>A send that passed its checks and waits to be stored.</summary>
/// <param name="SenderName">The name as it is now, not as the access token remembers it.</param>
public sealed record PendingSend(Guid ChatroomId, Guid SenderId, string SenderName, Guid? RecipientId, string Content, string? ClientMessageId);

/// <summary>
/// Stores sends that passed their checks, many in one transaction: each conversation's seqs claimed in
/// one statement, the messages inserted in one, a repeated client_message_id answered with the
/// original, the senders' read markers moved. Publishing is the caller's, after commit.
/// </summary>
public sealed class MessageStore(ChatDbContext db, SeqAllocator seqs, RateLimits limits)
{
    /// <summary>
    /// Stores <paramref name="sends"/> in one transaction, filling <paramref name="results"/> (one per
    /// send, in order). When it throws, the results it filled stand (repeats of stored messages, rate
    /// limits), nothing is stored, and <paramref name="admitted"/> tells which of the rest the rate
    /// limiter has already let through.
    /// </summary>
    public async Task StoreBatchAsync(IReadOnlyList<PendingSend> sends, SendResult?[] results, bool[] admitted, CancellationToken ct)
    {
        // Outside the transaction: this instance has one writer, so no send of its own races these
        // lookups; another instance's send of the same key meets the unique index, and the batch is
        // then written send by send.
        var originals = await OriginalsAsync(sends, ct);

        var fresh = new List<int>();
        var firstOfKey = new Dictionary<(Guid, Guid, string), int>();
        var repeatOf = new Dictionary<int, int>();
        for (var i = 0; i < sends.Count; i++)
        {
            var send = sends[i];
            if (send.ClientMessageId is { } clientId)
            {
                var key = (send.SenderId, send.ChatroomId, clientId);
                if (originals.TryGetValue(key, out var original))
                {
                    results[i] = new SendResult(original, false, SendError.None);
                    continue;
                }
                if (firstOfKey.TryGetValue(key, out var first))
                {
                    repeatOf[i] = first; // a retry within the batch: answered with the first one's message
                    continue;
                }
            }
            // After the repeat checks: a retry of a stored message is answered, never rate limited.
            if (limits.TrySendMessage(send.SenderId) is { } retryAfter)
            {
                results[i] = SendResult.Failed(SendError.RateLimited, retryAfter);
                continue;
            }
            admitted[i] = true;
            if (send.ClientMessageId is { } admittedId)
            {
                firstOfKey[(send.SenderId, send.ChatroomId, admittedId)] = i;
            }
            fresh.Add(i);
        }
        if (fresh.Count == 0)
        {
            return;
        }

        // Each conversation's new messages take its next seqs in batch order; a sender's read marker
        // moves to their last one.
        var countOf = new Dictionary<Guid, int>();
        var ordinal = new int[sends.Count];
        var lastOfSender = new Dictionary<(Guid, Guid), int>();
        foreach (var i in fresh)
        {
            var room = sends[i].ChatroomId;
            ordinal[i] = countOf[room] = countOf.GetValueOrDefault(room) + 1;
            lastOfSender[(room, sends[i].SenderId)] = ordinal[i];
        }
        var claims = countOf.Select(c => new SeqClaim(c.Key, c.Value)).ToList();
        var reads = lastOfSender.Select(r => new ReadMove(r.Key.Item1, r.Key.Item2, countOf[r.Key.Item1] - r.Value)).ToList();

        var now = Clock.Now();
        var stored = new Dictionary<int, Message>();
        db.Database.AutoSavepointsEnabled = false; // a failure rolls the whole batch back
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            var lastSeqs = await seqs.ClaimAsync(claims, reads, now, ct);
            foreach (var i in fresh)
            {
                var send = sends[i];
                if (!lastSeqs.TryGetValue(send.ChatroomId, out var last))
                {
                    continue; // the conversation was deleted after the send's checks
                }
                var message = NewMessage(send, last - countOf[send.ChatroomId] + ordinal[i], now);
                stored[i] = message;
                db.Messages.Add(message);
            }
            if (stored.Count > 0)
            {
                await db.SaveChangesAsync(ct); // one batched command for all the messages
            }
            await transaction.CommitAsync(ct);
        }
        db.ChangeTracker.Clear();

        foreach (var i in fresh)
        {
            results[i] = stored.TryGetValue(i, out var message)
                ? new SendResult(MessageMapper.From(message, sends[i].SenderName), true, SendError.None)
                : SendResult.Failed(SendError.NotFound);
        }
        foreach (var (i, first) in repeatOf)
        {
            results[i] = results[first]!.Message is { } message ? new SendResult(message, false, SendError.None) : results[first];
        }
    }

    /// <summary>
    /// Stores one send in a transaction of its own, checking for a repeat under the conversation's write
    /// lock: the path a batch falls back to when it fails, so a failure answers only the sends it concerns.
    /// </summary>
    /// <param name="checkRateLimit">false when the rate limiter has already let this send through.</param>
    public async Task<SendResult> StoreOneAsync(PendingSend send, bool checkRateLimit, CancellationToken ct)
    {
        var now = Clock.Now();
        Message message;
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            // Taken first: it holds the conversation's write lock, so the repeat check below cannot race.
            var seq = await seqs.NextAsync(send.ChatroomId, now, ct);
            if (seq is null)
            {
                return SendResult.Failed(SendError.NotFound);
            }
            if (send.ClientMessageId is { } clientId)
            {
                var original = await db.Messages.Where(m => m.ChatroomId == send.ChatroomId && m.SenderId == send.SenderId && m.ClientMessageId == clientId)
                    .Responses(db).FirstOrDefaultAsync(ct);
                if (original is not null)
                {
                    await transaction.RollbackAsync(ct);
                    return new SendResult(original, false, SendError.None);
                }
            }
            if (checkRateLimit && limits.TrySendMessage(send.SenderId) is { } retryAfter)
            {
                await transaction.RollbackAsync(ct);
                return SendResult.Failed(SendError.RateLimited, retryAfter);
            }
            message = NewMessage(send, seq.Value, now);
            db.Messages.Add(message);
            await db.SaveChangesAsync(ct);
            await db.Members.Where(m => m.ChatroomId == send.ChatroomId && m.UserId == send.SenderId && m.LastReadSeq < seq)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.LastReadSeq, seq.Value), ct);
            await transaction.CommitAsync(ct);
        }
        db.ChangeTracker.Clear();
        return new SendResult(MessageMapper.From(message, send.SenderName), true, SendError.None);
    }

    /// <summary>The stored messages the batch's client_message_ids repeat, in one query.</summary>
    private async Task<Dictionary<(Guid, Guid, string), MessageResponse>> OriginalsAsync(IReadOnlyList<PendingSend> sends, CancellationToken ct)
    {
        var keyed = sends.Where(s => s.ClientMessageId is not null).ToList();
        if (keyed.Count == 0)
        {
            return [];
        }
        var senders = keyed.Select(s => s.SenderId).Distinct().ToList();
        var rooms = keyed.Select(s => s.ChatroomId).Distinct().ToList();
        var clientIds = keyed.Select(s => s.ClientMessageId).Distinct().ToList();
        // A superset when the batch mixes senders and rooms; the exact keys are picked below.
        var found = await db.Messages.Where(m => senders.Contains(m.SenderId) && rooms.Contains(m.ChatroomId) && clientIds.Contains(m.ClientMessageId))
            .Responses(db).ToListAsync(ct);
        return found.ToDictionary(m => (m.SenderId, m.ChatroomId, m.ClientMessageId!));
    }

    private static Message NewMessage(PendingSend send, long seq, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(),
        ChatroomId = send.ChatroomId,
        Seq = seq,
        SenderId = send.SenderId,
        RecipientId = send.RecipientId,
        Content = send.Content,
        ClientMessageId = send.ClientMessageId,
        CreatedAt = now,
    };
}
