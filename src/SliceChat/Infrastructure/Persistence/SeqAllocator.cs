using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Infrastructure.Persistence;

/// <summary>Seqs wanted for one conversation in one transaction.</summary>
public sealed record SeqClaim(Guid ChatroomId, int Count);

/// <summary>
/// A sender's read marker moves to their last message of the batch in that conversation: the one
/// <see cref="FromEnd"/> places before the conversation's newest (0: the newest itself).
/// </summary>
public sealed record ReadMove(Guid ChatroomId, Guid UserId, int FromEnd);

/// <summary>
/// Allocates message seqs inside the caller's transaction. The UPDATE takes the chatroom row's write
/// lock (PostgreSQL) or the database write lock (SQLite) until commit, so concurrent senders to one
/// conversation queue up and seqs have no gaps or duplicates.
/// </summary>
public sealed class SeqAllocator(ChatDbContext db)
{
    /// <returns>The new seq, or null when the chatroom does not exist.</returns>
    public Task<long?> NextAsync(Guid chatroomId, DateTimeOffset now, CancellationToken ct) => ClaimAsync(chatroomId, 1, now, ct);

    /// <summary>
    /// Claims each conversation's seqs (its claim's are <c>last - Count + 1 .. last</c>) and moves the
    /// senders' read markers forward: a statement per conversation and per marker, which costs no round
    /// trip on SQLite (in-process, one write lock for the whole database). PostgreSQL batches do the
    /// same in their one statement (MessageStore).
    /// </summary>
    /// <returns>Each conversation's newest seq after the claim; a conversation that no longer exists is missing.</returns>
    public async Task<Dictionary<Guid, long>> ClaimAsync(IReadOnlyCollection<SeqClaim> claims, IReadOnlyCollection<ReadMove> reads, DateTimeOffset now, CancellationToken ct)
    {
        var claimed = new Dictionary<Guid, long>();
        foreach (var claim in claims)
        {
            if (await ClaimAsync(claim.ChatroomId, claim.Count, now, ct) is { } last)
            {
                claimed[claim.ChatroomId] = last;
            }
        }
        foreach (var read in reads)
        {
            if (claimed.TryGetValue(read.ChatroomId, out var last))
            {
                var target = last - read.FromEnd;
                await db.Members.Where(m => m.ChatroomId == read.ChatroomId && m.UserId == read.UserId && m.LastReadSeq < target)
                    .ExecuteUpdateAsync(s => s.SetProperty(m => m.LastReadSeq, target), ct);
            }
        }
        return claimed;
    }

    private async Task<long?> ClaimAsync(Guid chatroomId, int count, DateTimeOffset now, CancellationToken ct)
    {
        RequireTransaction();
        // One statement (both providers speak RETURNING): the lock is held for one round trip less.
        // Raw SQL bypasses value converters, so the timestamp goes in as the column stores it.
        var activity = db.Model.FindEntityType(typeof(Chatroom))!.FindProperty(nameof(Chatroom.LastActivityAt))!
            .GetTypeMapping().Converter?.ConvertToProvider(now) ?? now;
        var seqs = await db.Database
            .SqlQueryRaw<long>("UPDATE chatrooms SET last_seq = last_seq + {0}, last_activity_at = {1} WHERE id = {2} RETURNING last_seq AS \"Value\"", (long)count, activity, chatroomId)
            .ToListAsync(ct);
        return seqs.Count == 1 ? seqs[0] : null;
    }

    private void RequireTransaction()
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("Seq allocation must run inside the transaction that inserts the messages.");
        }
    }
}
