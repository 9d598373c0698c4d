using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Attachments;
using SliceChat.Infrastructure.Notifications;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Infrastructure.Conversations;

/// <summary>A send that passed its checks and waits to be stored.</summary>
/// <param name="SenderName">The name as it is now, not as the access token remembers it.</param>
/// <param name="AttachmentIds">Uploads of the sender the message takes (none when null or empty).</param>
public sealed record PendingSend(Guid ChatroomId, Guid SenderId, string SenderName, Guid? RecipientId, string Content, string? ClientMessageId,
    IReadOnlyList<Guid>? AttachmentIds = null)
{
    public bool HasAttachments => AttachmentIds is { Count: > 0 };
}

/// <summary>
/// Stores sends that passed their checks, many in one transaction (on PostgreSQL one statement): each
/// conversation's seqs claimed, the messages inserted, a repeated client_message_id answered with the
/// original, the senders' read markers moved, attachments claimed. Publishing is the caller's, after commit.
/// A send whose attachments cannot be claimed fails alone (<see cref="SendError.AttachmentsUnavailable"/>), before
/// any seq is taken. A batch without attachments pays nothing for them.
/// </summary>
public sealed class MessageStore(ChatDbContext db, SeqAllocator seqs, NotificationOutbox notifications, AttachmentClaims attachments)
{
    /// <summary>
    /// Stores <paramref name="sends"/> in one transaction, filling <paramref name="results"/> (one per
    /// send, in order). When it throws, the results it filled stand (repeats of stored messages) and
    /// nothing is stored.
    /// </summary>
    public async Task StoreBatchAsync(IReadOnlyList<PendingSend> sends, SendResult?[] results, CancellationToken ct)
    {
        // Repeats of stored messages: on PostgreSQL the batch statement finds them itself, except those of sends
        // with attachments, whose repeat must be known before their attachments (the original's now) are checked.
        // Outside the transaction: a conversation has one writer on this instance, so no send of its own races
        // these lookups; another instance's send of the same key meets the unique index, and the batch is then
        // written send by send.
        var originals = await OriginalsAsync(db.Database.IsNpgsql() ? [.. sends.Where(s => s.HasAttachments)] : sends, ct);

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
                firstOfKey[key] = i;
            }
            fresh.Add(i);
        }
        var attachedTo = await CheckAttachmentsAsync(sends, fresh, results, ct);
        if (fresh.Count > 0)
        {
            await StoreFreshAsync(sends, fresh, attachedTo, results, ct);
        }
        foreach (var (i, first) in repeatOf)
        {
            results[i] = results[first]!.Message is { } message ? new SendResult(message, false, SendError.None) : results[first];
        }
    }

    /// <summary>
    /// The attachments of the fresh sends that have some, in one query; a send that cannot have all of its own is
    /// answered with <see cref="SendError.AttachmentsUnavailable"/> and taken out of <paramref name="fresh"/>.
    /// </summary>
    private async Task<Dictionary<int, List<AttachmentResponse>>> CheckAttachmentsAsync(IReadOnlyList<PendingSend> sends, List<int> fresh,
        SendResult?[] results, CancellationToken ct)
    {
        var withAttachments = fresh.Where(i => sends[i].HasAttachments).ToList();
        if (withAttachments.Count == 0)
        {
            return [];
        }
        var found = await attachments.CheckAsync([.. withAttachments.Select(i => (sends[i].SenderId, sends[i].AttachmentIds!))], ct);
        var attachedTo = new Dictionary<int, List<AttachmentResponse>>();
        for (var k = 0; k < withAttachments.Count; k++)
        {
            if (found[k] is { } list)
            {
                attachedTo[withAttachments[k]] = list;
            }
            else
            {
                results[withAttachments[k]] = SendResult.Failed(SendError.AttachmentsUnavailable);
                fresh.Remove(withAttachments[k]);
            }
        }
        return attachedTo;
    }

    private async Task StoreFreshAsync(IReadOnlyList<PendingSend> sends, List<int> fresh, Dictionary<int, List<AttachmentResponse>> attachedTo,
        SendResult?[] results, CancellationToken ct)
    {
        var now = Clock.Now();
        var drafts = fresh.ToDictionary(i => i, i => NewMessage(sends[i], 0, now));
        // Offline notifications' outbox rows and attachment claims share the batch's transaction; without either, nothing changes.
        await using var outer = notifications.Enabled || attachedTo.Count > 0 ? await db.Database.BeginTransactionAsync(ct) : null;
        var written = db.Database.IsNpgsql()
            ? await WriteInOneStatementAsync([.. fresh.Select(i => drafts[i])], now, ct)
            : await WriteInTransactionAsync([.. fresh.Select(i => drafts[i])], now, ct);
        var repeated = written.Originals.Count > 0
            ? await db.Messages.Where(m => written.Originals.Values.Contains(m.Id)).Responses(db).ToDictionaryAsync(m => m.Id, ct)
            : [];
        var stored = fresh.Where(i => written.LastSeqs.ContainsKey(drafts[i].ChatroomId) && !written.Originals.ContainsKey(drafts[i].Id)).ToList();
        // After the insert: a claim another instance took since the check throws, and the batch is written send by send.
        foreach (var i in stored.Where(attachedTo.ContainsKey))
        {
            await attachments.ClaimAsync(drafts[i].Id, sends[i].SenderId, sends[i].AttachmentIds!, ct);
        }
        if (notifications.Enabled)
        {
            await notifications.EnqueueAsync(db, stored.Select(i => (drafts[i].ChatroomId, drafts[i].SenderId)), ct);
        }
        if (outer is not null)
        {
            await outer.CommitAsync(ct);
        }

        SeqPlan.Of(stored.Select(i => drafts[i])).Assign(written.LastSeqs);
        foreach (var i in fresh)
        {
            var message = drafts[i];
            results[i] = written.Originals.TryGetValue(message.Id, out var originalId)
                ? new SendResult(repeated[originalId], false, SendError.None)
                : written.LastSeqs.ContainsKey(message.ChatroomId)
                    ? new SendResult(MessageMapper.From(message, sends[i].SenderName, attachedTo.GetValueOrDefault(i) ?? []), true, SendError.None)
                    : SendResult.Failed(SendError.NotFound); // the conversation was deleted after the send's checks
        }
    }

    /// <summary>What a batch's write did: each conversation's newest seq after it (a deleted one missing), and the drafts that repeat a stored message.</summary>
    private sealed record Written(Dictionary<Guid, long> LastSeqs, Dictionary<Guid, Guid> Originals);

    /// <summary>
    /// Each conversation's new messages take its next seqs in batch order, the k-th of a room's n new ones
    /// <c>n - k</c> before the room's newest; a sender's read marker moves to their last one. The SQL of
    /// <see cref="WriteInOneStatementAsync"/> computes the same with window functions.
    /// </summary>
    private sealed class SeqPlan
    {
        private readonly List<(Message Message, int FromEnd)> messages = [];

        public required Dictionary<Guid, int> CountOf { get; init; }

        public static SeqPlan Of(IEnumerable<Message> inBatchOrder)
        {
            var ordered = inBatchOrder.ToList();
            var plan = new SeqPlan { CountOf = ordered.CountBy(m => m.ChatroomId).ToDictionary() };
            var taken = new Dictionary<Guid, int>();
            foreach (var message in ordered)
            {
                var k = taken[message.ChatroomId] = taken.GetValueOrDefault(message.ChatroomId) + 1;
                plan.messages.Add((message, plan.CountOf[message.ChatroomId] - k));
            }
            return plan;
        }

        public IEnumerable<SeqClaim> Claims => CountOf.Select(c => new SeqClaim(c.Key, c.Value));

        public IEnumerable<ReadMove> Reads => messages.GroupBy(m => (m.Message.ChatroomId, m.Message.SenderId))
            .Select(g => new ReadMove(g.Key.ChatroomId, g.Key.SenderId, g.Min(m => m.FromEnd)));

        /// <summary>Gives each message of a claimed conversation its seq.</summary>
        public void Assign(Dictionary<Guid, long> lastSeqs)
        {
            foreach (var (message, fromEnd) in messages)
            {
                if (lastSeqs.TryGetValue(message.ChatroomId, out var last))
                {
                    message.Seq = last - fromEnd;
                }
            }
        }
    }

    /// <summary>
    /// PostgreSQL: the whole batch as one statement, which is its own transaction (committed before
    /// Npgsql has finished reading its result): one round trip, and the rooms' locks are held for no
    /// longer than the statement runs. Raw SQL, because EF cannot put the repeat lookup, the seq claim,
    /// the read markers and the insert into one statement, nor return the claimed seqs (ExecuteUpdate
    /// gives a row count).
    /// <list type="bullet">
    /// <item><c>draft</c> finds each draft's stored original (same sender, conversation and
    /// client_message_id) in the unique index; <c>fresh</c> numbers the others per conversation in
    /// batch order (<see cref="SeqPlan"/>'s rule);</item>
    /// <item><c>locked</c> takes the rooms' row locks in id order, so two instances whose batches share
    /// rooms cannot deadlock;</item>
    /// <item><c>claimed</c> adds each room's count to its last_seq (as <see cref="SeqAllocator"/> does
    /// for one room) and returns its newest seq; a room deleted meanwhile returns nothing, and its
    /// messages are not inserted;</item>
    /// <item><c>marked</c> moves each sender's read marker to their last message, forward only;</item>
    /// <item><c>inserted</c> gives each message its seq (<c>newest - (n - k)</c>). A unique index
    /// refusing one message (the same client_message_id stored by another instance after this
    /// statement's snapshot) fails the statement, and nothing of the batch is stored.</item>
    /// </list>
    /// </summary>
    private async Task<Written> WriteInOneStatementAsync(IReadOnlyList<Message> drafts, DateTimeOffset now, CancellationToken ct)
    {
        Guid[] ids = [.. drafts.Select(d => d.Id)];
        Guid[] rooms = [.. drafts.Select(d => d.ChatroomId)];
        Guid[] senders = [.. drafts.Select(d => d.SenderId)];
        Guid?[] recipients = [.. drafts.Select(d => d.RecipientId)];
        string[] contents = [.. drafts.Select(d => d.Content)];
        string?[] clientIds = [.. drafts.Select(d => d.ClientMessageId)];
        // Starts with the tag of PreparedStatements (a tag by TagWith would make EF wrap the statement in a subquery).
        var rows = await db.Database.SqlQuery<WrittenRow>($"""
            -- prepared
            WITH draft AS (
                SELECT d.*, (SELECT m.id FROM messages AS m
                             WHERE m.sender_id = d.sender_id AND m.chatroom_id = d.chatroom_id AND m.client_message_id = d.client_message_id) AS original_id
                FROM unnest({ids}, {rooms}, {senders}, {recipients}, {contents}, {clientIds}) WITH ORDINALITY
                    AS d(id, chatroom_id, sender_id, recipient_id, content, client_message_id, ord)
            ), fresh AS (
                SELECT d.*, count(*) OVER (PARTITION BY d.chatroom_id) - row_number() OVER (PARTITION BY d.chatroom_id ORDER BY d.ord) AS from_end
                FROM draft AS d WHERE d.original_id IS NULL
            ), locked AS (
                SELECT c.id FROM chatrooms AS c WHERE c.id IN (SELECT chatroom_id FROM fresh) ORDER BY c.id FOR UPDATE
            ), claimed AS (
                UPDATE chatrooms AS c SET last_seq = c.last_seq + b.n, last_activity_at = {now}
                FROM (SELECT chatroom_id, count(*) AS n FROM fresh GROUP BY chatroom_id) AS b
                WHERE c.id = b.chatroom_id AND c.id IN (SELECT id FROM locked)
                RETURNING c.id, c.last_seq
            ), marked AS (
                UPDATE members AS m SET last_read_seq = k.last_seq - r.from_end
                FROM (SELECT chatroom_id, sender_id, min(from_end) AS from_end FROM fresh GROUP BY chatroom_id, sender_id) AS r
                JOIN claimed AS k ON k.id = r.chatroom_id
                WHERE m.chatroom_id = r.chatroom_id AND m.user_id = r.sender_id AND m.last_read_seq < k.last_seq - r.from_end
            ), inserted AS (
                INSERT INTO messages (id, chatroom_id, seq, sender_id, recipient_id, content, client_message_id, created_at)
                SELECT f.id, f.chatroom_id, k.last_seq - f.from_end, f.sender_id, f.recipient_id, f.content, f.client_message_id, {now}
                FROM fresh AS f JOIN claimed AS k ON k.id = f.chatroom_id
            )
            SELECT id AS "Id", last_seq AS "LastSeq", NULL::uuid AS "OriginalId" FROM claimed
            UNION ALL
            SELECT id, NULL, original_id FROM draft WHERE original_id IS NOT NULL
            """).ToListAsync(ct);
        return new Written(
            rows.Where(r => r.LastSeq is not null).ToDictionary(r => r.Id, r => r.LastSeq!.Value),
            rows.Where(r => r.OriginalId is not null).ToDictionary(r => r.Id, r => r.OriginalId!.Value));
    }

    /// <param name="Id">A conversation's id (with its newest seq) or a draft's (with the original it repeats).</param>
    private sealed record WrittenRow(Guid Id, long? LastSeq, Guid? OriginalId);

    /// <summary>
    /// SQLite: the seq claims and markers through <see cref="SeqAllocator"/>, the insert through EF, in one transaction (the
    /// caller's, when it has one). Repeats were all looked up before.
    /// </summary>
    private async Task<Written> WriteInTransactionAsync(IReadOnlyList<Message> drafts, DateTimeOffset now, CancellationToken ct)
    {
        db.Database.AutoSavepointsEnabled = false; // a failure rolls the whole batch back
        await using var transaction = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        var plan = SeqPlan.Of(drafts);
        var lastSeqs = await seqs.ClaimAsync([.. plan.Claims], [.. plan.Reads], now, ct);
        plan.Assign(lastSeqs);
        db.Messages.AddRange(drafts.Where(d => lastSeqs.ContainsKey(d.ChatroomId)));
        await db.SaveChangesAsync(ct);
        if (transaction is not null)
        {
            await transaction.CommitAsync(ct);
        }
        db.ChangeTracker.Clear();
        return new Written(lastSeqs, []);
    }

    /// <summary>
    /// Stores one send in a transaction of its own, checking for a repeat under the conversation's write
    /// lock: the path a batch falls back to when it fails, so a failure answers only the sends it concerns.
    /// </summary>
    public async Task<SendResult> StoreOneAsync(PendingSend send, CancellationToken ct)
    {
        var now = Clock.Now();
        Message message;
        List<AttachmentResponse>? attached = null;
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            // Taken first: it holds the conversation's write lock, so the repeat check below cannot race.
            var seq = await seqs.NextAsync(send.ChatroomId, now, ct);
            if (seq is null)
            {
                return SendResult.Failed(SendError.NotFound);
            }
            if (await OriginalOfAsync(send, ct) is { } original)
            {
                await transaction.RollbackAsync(ct);
                return new SendResult(original, false, SendError.None);
            }
            if (send.HasAttachments)
            {
                attached = (await attachments.CheckAsync([(send.SenderId, send.AttachmentIds!)], ct))[0];
                if (attached is null)
                {
                    await transaction.RollbackAsync(ct);
                    return SendResult.Failed(SendError.AttachmentsUnavailable);
                }
            }
            message = NewMessage(send, seq.Value, now);
            db.Messages.Add(message);
            await db.SaveChangesAsync(ct);
            if (send.HasAttachments)
            {
                try
                {
                    await attachments.ClaimAsync(message.Id, send.SenderId, send.AttachmentIds!, ct);
                }
                catch (AttachmentClaimLostException)
                {
                    await transaction.RollbackAsync(ct);
                    db.ChangeTracker.Clear();
                    return SendResult.Failed(SendError.AttachmentsUnavailable);
                }
            }
            await db.Members.Where(m => m.ChatroomId == send.ChatroomId && m.UserId == send.SenderId && m.LastReadSeq < seq)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.LastReadSeq, seq.Value), ct);
            await notifications.EnqueueAsync(db, [(send.ChatroomId, send.SenderId)], ct);
            await transaction.CommitAsync(ct);
        }
        db.ChangeTracker.Clear();
        return new SendResult(MessageMapper.From(message, send.SenderName, attached ?? []), true, SendError.None);
    }

    /// <summary>The stored message this send repeats (same sender, conversation and client_message_id), if any.</summary>
    public async Task<MessageResponse?> OriginalOfAsync(PendingSend send, CancellationToken ct) =>
        send.ClientMessageId is { } clientId
            ? await db.Messages.Where(m => m.ChatroomId == send.ChatroomId && m.SenderId == send.SenderId && m.ClientMessageId == clientId)
                .Responses(db).FirstOrDefaultAsync(ct)
            : null;

    /// <summary>The stored messages the batch's client_message_ids repeat, in one query.</summary>
    private async Task<Dictionary<(Guid, Guid, string), MessageResponse>> OriginalsAsync(IReadOnlyList<PendingSend> sends, CancellationToken ct)
    {
        var keyed = sends.Where(s => s.ClientMessageId is not null).ToList();
        if (keyed.Count == 0)
        {
            return [];
        }
        IQueryable<Message> originals;
        if (db.Database.IsNpgsql())
        {
            // The exact keys, each one lookup in the unique index. Three ANY() filters (what EF makes of
            // Contains) reach the index on the sender alone, and so read the senders' whole history.
            Guid[] senders = [.. keyed.Select(s => s.SenderId)];
            Guid[] rooms = [.. keyed.Select(s => s.ChatroomId)];
            string[] clientIds = [.. keyed.Select(s => s.ClientMessageId!)];
            originals = db.Messages.FromSql($"""
                SELECT m.* FROM unnest({senders}, {rooms}, {clientIds}) AS k(sender_id, chatroom_id, client_message_id)
                JOIN messages AS m ON m.sender_id = k.sender_id AND m.chatroom_id = k.chatroom_id AND m.client_message_id = k.client_message_id
                """).TagWith(PreparedStatements.Tag);
        }
        else
        {
            var senders = keyed.Select(s => s.SenderId).Distinct().ToList();
            var rooms = keyed.Select(s => s.ChatroomId).Distinct().ToList();
            var clientIds = keyed.Select(s => s.ClientMessageId).Distinct().ToList();
            // A superset when the batch mixes senders and rooms; the exact keys are picked below.
            originals = db.Messages.Where(m => senders.Contains(m.SenderId) && rooms.Contains(m.ChatroomId) && clientIds.Contains(m.ClientMessageId));
        }
        // Ids first: most batches repeat nothing, and then this one small query is all (no join to senders and attachments).
        var ids = await originals.Select(m => m.Id).ToListAsync(ct);
        if (ids.Count == 0)
        {
            return [];
        }
        var found = await db.Messages.Where(m => ids.Contains(m.Id)).Responses(db).ToListAsync(ct);
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
