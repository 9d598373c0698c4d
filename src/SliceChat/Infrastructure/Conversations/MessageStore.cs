using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Attachments;
using SliceChat.Infrastructure.Notifications;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Infrastructure.Conversations;

/// <summary>A send that passed its validation and waits to be stored; the store checks that its sender may send there.</summary>
/// <param name="AttachmentIds">Uploads of the sender the message takes (none when null or empty).</param>
public sealed record PendingSend(Guid ChatroomId, Guid SenderId, string Content, string? ClientMessageId, IReadOnlyList<Guid>? AttachmentIds = null)
{
    public bool HasAttachments => AttachmentIds is { Count: > 0 };
}

/// <summary>
/// Stores sends, many in one transaction (on PostgreSQL one statement): each sender's access checked
/// (a member; in a direct conversation, one whose partner still has an account), each conversation's
/// seqs claimed, the messages inserted, a repeated client_message_id answered with the original, the
/// senders' read markers moved, attachments claimed. Publishing is the caller's, after commit. A send
/// that may not be stored fails alone: its sender may not send there (<see cref="SendError.NotFound"/>,
/// <see cref="SendError.NotMember"/>) or its attachments cannot be claimed
/// (<see cref="SendError.AttachmentsUnavailable"/>), before any seq is taken. A batch without
/// attachments pays nothing for them.
/// </summary>
public sealed class MessageStore(ChatDbContext db, ChatroomAccess access, SeqAllocator seqs, NotificationOutbox notifications, AttachmentClaims attachments,
    PerApp<RawSqlCommands> rawSql)
{
    /// <summary>
    /// Stores <paramref name="sends"/> in one transaction, filling <paramref name="results"/> (one per
    /// send, in order). When it throws, the results it filled stand (refusals, repeats of stored
    /// messages) and nothing is stored.
    /// </summary>
    public async Task StoreBatchAsync(IReadOnlyList<PendingSend> sends, SendResult?[] results, CancellationToken ct)
    {
        // Checked before the write: on SQLite every send; on PostgreSQL, whose batch statement checks access and
        // finds repeats itself, only the sends with attachments, which must be known to be allowed and not repeats
        // (whose attachments are the original's) before their attachments are checked. Outside the transaction: a
        // conversation has one writer on this instance, so no send of its own races these lookups; another
        // instance's send of the same key meets the unique index, and the batch is then written send by send.
        var senderOf = new Dictionary<int, Sender>();
        var originals = new Dictionary<int, MessageResponse>();
        var checkAll = db is not PostgresChatDbContext;
        for (var i = 0; i < sends.Count; i++)
        {
            if (checkAll || sends[i].HasAttachments)
            {
                var (refusal, sender) = await CheckSenderAsync(sends[i], ct);
                if (sender is null)
                {
                    results[i] = SendResult.Failed(refusal);
                    continue;
                }
                senderOf[i] = sender;
                if (await OriginalOfAsync(sends[i], ct) is { } original)
                {
                    originals[i] = original;
                }
            }
        }

        var fresh = new List<int>();
        var firstOfKey = new Dictionary<(Guid, Guid, string), int>();
        var repeatOf = new Dictionary<int, int>();
        for (var i = 0; i < sends.Count; i++)
        {
            var send = sends[i];
            if (results[i] is not null)
            {
                continue;
            }
            if (originals.TryGetValue(i, out var original))
            {
                results[i] = new SendResult(original, false, SendError.None);
                continue;
            }
            if (send.ClientMessageId is { } clientId)
            {
                var key = (send.SenderId, send.ChatroomId, clientId);
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
            await StoreFreshAsync(sends, fresh, senderOf, attachedTo, results, ct);
        }
        foreach (var (i, first) in repeatOf)
        {
            results[i] = results[first]!.Message is { } message ? new SendResult(message, false, SendError.None) : results[first];
        }
    }

    /// <summary>A sender allowed to send to a conversation: their name as it is now (not as the access token remembers it) and a direct conversation's partner.</summary>
    private sealed record Sender(string Name, Guid? PartnerId);

    /// <summary>The sender when they may send to the conversation, else why not (a conversation they may not see is not found).</summary>
    private async Task<(SendError Refusal, Sender? Sender)> CheckSenderAsync(PendingSend send, CancellationToken ct)
    {
        var found = await access.FindForSenderAsync(send.ChatroomId, send.SenderId, ct);
        if (found is null)
        {
            return (SendError.NotFound, null);
        }
        if (!found.Access.IsMember)
        {
            return (SendError.NotMember, null);
        }
        if (found.Access.Room.Kind == ChatroomKind.Direct && found.Partner is null)
        {
            return (SendError.NotFound, null); // the partner deleted their account
        }
        return (SendError.None, new Sender(found.SenderName, found.Partner));
    }

    /// <summary>
    /// The answer to a send that is not stored now (its sender is over the rate limit): the original when it
    /// repeats a stored message (a retry is never refused), a refusal when its sender may not send there, else null.
    /// </summary>
    public async Task<SendResult?> AnswerWithoutStoringAsync(PendingSend send, CancellationToken ct)
    {
        var (refusal, sender) = await CheckSenderAsync(send, ct);
        if (sender is null)
        {
            return SendResult.Failed(refusal);
        }
        return await OriginalOfAsync(send, ct) is { } original ? new SendResult(original, false, SendError.None) : null;
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

    private async Task StoreFreshAsync(IReadOnlyList<PendingSend> sends, List<int> fresh, Dictionary<int, Sender> senderOf,
        Dictionary<int, List<AttachmentResponse>> attachedTo, SendResult?[] results, CancellationToken ct)
    {
        var now = Clock.Now();
        var drafts = fresh.ToDictionary(i => i, i => NewMessage(sends[i], senderOf.GetValueOrDefault(i)?.PartnerId, 0, now));
        // Attachment claims share the batch's transaction, and so do offline notifications where the batch statement does
        // not queue them itself (SQLite); without either, nothing changes.
        var notifyApart = notifications.Enabled && db is not PostgresChatDbContext;
        await using var outer = notifyApart || attachedTo.Count > 0 ? await db.Database.BeginTransactionAsync(ct) : null;
        var written = db is PostgresChatDbContext
            ? await WriteInOneStatementAsync([.. fresh.Select(i => drafts[i])], now, ct)
            : new Written(await WriteInTransactionAsync([.. fresh.Select(i => drafts[i])], now, ct),
                fresh.ToDictionary(i => drafts[i].Id, i => new Admitted(senderOf[i], null)));
        var originalIds = written.Admitted.Values.Select(a => a.OriginalId).OfType<Guid>().ToList();
        var repeated = originalIds.Count > 0
            ? (await db.Messages.Where(m => originalIds.Contains(m.Id)).ResponsesAsync(db, ct)).ToDictionary(m => m.Id)
            : [];
        var stored = fresh.Where(i => written.Admitted.GetValueOrDefault(drafts[i].Id) is { OriginalId: null } && written.LastSeqs.ContainsKey(drafts[i].ChatroomId))
            .ToList();
        // After the insert: a claim another instance took since the check throws, and the batch is written send by send.
        foreach (var i in stored.Where(attachedTo.ContainsKey))
        {
            await attachments.ClaimAsync(drafts[i].Id, sends[i].SenderId, sends[i].AttachmentIds!, ct);
        }
        if (notifyApart)
        {
            await notifications.EnqueueAsync(db, stored.Select(i => (drafts[i].ChatroomId, drafts[i].SenderId)), ct);
        }
        if (outer is not null)
        {
            await outer.CommitAsync(ct);
        }

        foreach (var i in fresh)
        {
            var message = drafts[i];
            if (written.Admitted.GetValueOrDefault(message.Id) is not { } admitted)
            {
                // Refused by the batch statement; a check says why (one allowed meanwhile is answered as not found, and a retry is stored).
                var (refusal, _) = await CheckSenderAsync(sends[i], ct);
                results[i] = SendResult.Failed(refusal == SendError.None ? SendError.NotFound : refusal);
            }
            else if (admitted.OriginalId is { } originalId)
            {
                results[i] = new SendResult(repeated[originalId], false, SendError.None);
            }
            else if (written.LastSeqs.ContainsKey(message.ChatroomId))
            {
                results[i] = new SendResult(MessageMapper.From(message, admitted.Sender.Name, attachedTo.GetValueOrDefault(i) ?? []), true, SendError.None);
            }
            else
            {
                results[i] = SendResult.Failed(SendError.NotFound); // the conversation was deleted after the send's checks
            }
        }
    }

    /// <summary>
    /// What a batch's write did: each conversation's newest seq after it (a deleted one missing), and the drafts whose
    /// senders may send there (by draft id; the others are refused), with the stored message a draft repeats. The
    /// stored drafts have their seqs and recipients.
    /// </summary>
    private sealed record Written(Dictionary<Guid, long> LastSeqs, Dictionary<Guid, Admitted> Admitted);

    private sealed record Admitted(Sender Sender, Guid? OriginalId);

    /// <summary>
    /// Each conversation's new messages take its next seqs in batch order, the k-th of a room's n new ones
    /// <c>n - k</c> before the room's newest; a sender's read marker moves to their last one. The SQL of
    /// <see cref="WriteInOneStatementAsync"/> computes the same with window functions.
    /// </summary>
    private sealed class SeqPlan
    {
        private readonly Dictionary<Guid, int> countOf;
        private readonly List<(Message Message, int FromEnd)> messages = [];

        public SeqPlan(IEnumerable<Message> inBatchOrder)
        {
            var ordered = inBatchOrder.ToList();
            countOf = ordered.CountBy(m => m.ChatroomId).ToDictionary();
            var taken = new Dictionary<Guid, int>();
            foreach (var message in ordered)
            {
                var k = taken[message.ChatroomId] = taken.GetValueOrDefault(message.ChatroomId) + 1;
                messages.Add((message, countOf[message.ChatroomId] - k));
            }
        }

        public IEnumerable<SeqClaim> Claims => countOf.Select(c => new SeqClaim(c.Key, c.Value));

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
    /// longer than the statement runs. Raw SQL, because EF cannot put the access check, the repeat
    /// lookup, the seq claim, the read markers and the insert into one statement, nor return the claimed
    /// seqs (ExecuteUpdate gives a row count); its command is built once per app (<see cref="RawSqlCommands"/>).
    /// <list type="bullet">
    /// <item><c>draft</c> keeps the drafts whose sender is a member, with the sender's name, a direct
    /// conversation's partner, and the stored original (same sender, conversation and
    /// client_message_id, from the unique index); <c>admitted</c> drops those of a direct conversation
    /// whose partner is gone; <c>fresh</c> numbers the others per conversation in batch order
    /// (<see cref="SeqPlan"/>'s rule);</item>
    /// <item><c>locked</c> takes the rooms' row locks in id order, so two instances whose batches share
    /// rooms cannot deadlock;</item>
    /// <item><c>claimed</c> adds each room's count to its last_seq (as <see cref="SeqAllocator"/> does
    /// for one room) and returns its newest seq; a room deleted meanwhile returns nothing, and its
    /// messages are not inserted;</item>
    /// <item><c>marked</c> moves each sender's read marker to their last message, forward only;</item>
    /// <item><c>inserted</c> gives each message its seq (<c>newest - from_end</c>). A unique index
    /// refusing one message (the same client_message_id stored by another instance after this
    /// statement's snapshot) fails the statement, and nothing of the batch is stored.</item>
    /// <item><c>notified</c>, with offline notifications on, opens their windows for the stored messages by
    /// <see cref="NotificationOutbox"/>'s rule (in its key order), so that they cost no statement of their own.</item>
    /// </list>
    /// </summary>
    private async Task<Written> WriteInOneStatementAsync(IReadOnlyList<Message> drafts, DateTimeOffset now, CancellationToken ct)
    {
        Guid[] ids = [.. drafts.Select(d => d.Id)];
        Guid[] rooms = [.. drafts.Select(d => d.ChatroomId)];
        Guid[] senders = [.. drafts.Select(d => d.SenderId)];
        string[] contents = [.. drafts.Select(d => d.Content)];
        string?[] clientIds = [.. drafts.Select(d => d.ClientMessageId)];
        const int direct = (int)ChatroomKind.Direct;
        var notify = notifications.Enabled;
        var due = notify ? notifications.DueAt() : 0;
        var written = new Written([], []);
        // Starts with the tag of PreparedStatements (a tag by TagWith would make EF wrap the statement in a subquery). Its rows:
        // a claimed conversation's id and newest seq, or an admitted draft's id, original, sender name and partner.
        await rawSql.Value.ReadAsync(db, $"""
            -- prepared
            WITH draft AS (
                SELECT d.*, r.kind, u.username AS sender_name,
                    (SELECT p.user_id FROM members AS p
                     WHERE r.kind = {direct} AND p.chatroom_id = d.chatroom_id AND p.user_id <> d.sender_id) AS recipient_id,
                    (SELECT m.id FROM messages AS m
                     WHERE m.sender_id = d.sender_id AND m.chatroom_id = d.chatroom_id AND m.client_message_id = d.client_message_id) AS original_id
                FROM unnest({ids}, {rooms}, {senders}, {contents}, {clientIds}) WITH ORDINALITY
                    AS d(id, chatroom_id, sender_id, content, client_message_id, ord)
                JOIN chatrooms AS r ON r.id = d.chatroom_id
                JOIN members AS s ON s.chatroom_id = d.chatroom_id AND s.user_id = d.sender_id
                JOIN users AS u ON u.id = d.sender_id
            ), admitted AS (
                SELECT * FROM draft WHERE kind <> {direct} OR recipient_id IS NOT NULL
            ), fresh AS (
                SELECT a.*, count(*) OVER (PARTITION BY a.chatroom_id) - row_number() OVER (PARTITION BY a.chatroom_id ORDER BY a.ord) AS from_end
                FROM admitted AS a WHERE a.original_id IS NULL
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
            ), notified AS (
                INSERT INTO notification_deliveries (user_id, chatroom_id, due_at, attempts)
                SELECT DISTINCT m.user_id, m.chatroom_id, {due}, 0
                FROM (SELECT DISTINCT f.chatroom_id, f.sender_id FROM fresh AS f JOIN claimed AS k ON k.id = f.chatroom_id) AS s
                JOIN members AS m ON m.chatroom_id = s.chatroom_id AND m.user_id <> s.sender_id
                WHERE {notify} AND NOT m.muted
                ORDER BY m.user_id, m.chatroom_id
                ON CONFLICT DO NOTHING
            )
            SELECT id, TRUE AS is_room, last_seq, NULL::uuid AS original_id, NULL AS sender_name, NULL::uuid AS recipient_id
            FROM claimed
            UNION ALL
            SELECT id, FALSE, NULL, original_id, sender_name, recipient_id FROM admitted
            """, row =>
            {
                if (row.GetBoolean(1))
                {
                    written.LastSeqs.Add(row.GetGuid(0), row.GetInt64(2));
                }
                else
                {
                    written.Admitted.Add(row.GetGuid(0), new Admitted(new Sender(row.GetString(4), row.IsDBNull(5) ? null : row.GetGuid(5)),
                        row.IsDBNull(3) ? null : row.GetGuid(3)));
                }
            }, ct);
        // The statement numbered the admitted drafts that repeat nothing: the same rule, over the same drafts in the same order.
        var stored = drafts.Where(d => written.Admitted.GetValueOrDefault(d.Id) is { OriginalId: null }).ToList();
        new SeqPlan(stored).Assign(written.LastSeqs);
        foreach (var draft in stored)
        {
            draft.RecipientId = written.Admitted[draft.Id].Sender.PartnerId;
        }
        return written;
    }

    /// <summary>
    /// SQLite: the seq claims and markers through <see cref="SeqAllocator"/>, the insert through EF, in one transaction (the
    /// caller's, when it has one). Access and repeats were all checked before.
    /// </summary>
    private async Task<Dictionary<Guid, long>> WriteInTransactionAsync(IReadOnlyList<Message> drafts, DateTimeOffset now, CancellationToken ct)
    {
        db.Database.AutoSavepointsEnabled = false; // a failure rolls the whole batch back
        await using var transaction = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        var plan = new SeqPlan(drafts);
        var lastSeqs = await seqs.ClaimAsync([.. plan.Claims], [.. plan.Reads], now, ct);
        plan.Assign(lastSeqs);
        db.Messages.AddRange(drafts.Where(d => lastSeqs.ContainsKey(d.ChatroomId)));
        await db.SaveChangesAsync(ct);
        if (transaction is not null)
        {
            await transaction.CommitAsync(ct);
        }
        db.ChangeTracker.Clear();
        return lastSeqs;
    }

    /// <summary>
    /// Stores one send in a transaction of its own, checking its sender's access and for a repeat under the
    /// conversation's write lock: the path a batch falls back to when it fails, so a failure answers only the
    /// sends it concerns.
    /// </summary>
    public async Task<SendResult> StoreOneAsync(PendingSend send, CancellationToken ct)
    {
        var now = Clock.Now();
        Message message;
        string senderName;
        List<AttachmentResponse>? attached = null;
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            // Taken first: it holds the conversation's write lock, so the repeat check below cannot race.
            var seq = await seqs.NextAsync(send.ChatroomId, now, ct);
            if (seq is null)
            {
                return SendResult.Failed(SendError.NotFound);
            }
            var (refusal, sender) = await CheckSenderAsync(send, ct);
            if (sender is null)
            {
                await transaction.RollbackAsync(ct);
                return SendResult.Failed(refusal);
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
            message = NewMessage(send, sender.PartnerId, seq.Value, now);
            senderName = sender.Name;
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
        return new SendResult(MessageMapper.From(message, senderName, attached ?? []), true, SendError.None);
    }

    /// <summary>The stored message this send repeats (same sender, conversation and client_message_id), if any.</summary>
    private async Task<MessageResponse?> OriginalOfAsync(PendingSend send, CancellationToken ct) =>
        send.ClientMessageId is { } clientId
            ? (await db.Messages.Where(m => m.ChatroomId == send.ChatroomId && m.SenderId == send.SenderId && m.ClientMessageId == clientId)
                .Take(1).ResponsesAsync(db, ct)).FirstOrDefault()
            : null;

    private static Message NewMessage(PendingSend send, Guid? recipientId, long seq, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(),
        ChatroomId = send.ChatroomId,
        Seq = seq,
        SenderId = send.SenderId,
        RecipientId = recipientId,
        Content = send.Content,
        ClientMessageId = send.ClientMessageId,
        CreatedAt = now,
    };
}
