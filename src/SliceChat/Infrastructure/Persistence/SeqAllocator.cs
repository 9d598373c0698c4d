using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Infrastructure.Persistence;

/// <summary>
/// Allocates a conversation's next message seq inside the caller's transaction. The UPDATE takes the
/// chatroom row's write lock (PostgreSQL) or the database write lock (SQLite) until commit, so
/// concurrent senders to one conversation queue up and seqs have no gaps or duplicates.
/// </summary>
public sealed class SeqAllocator(ChatDbContext db)
{
    /// <returns>The new seq, or null when the chatroom does not exist.</returns>
    public async Task<long?> NextAsync(Guid chatroomId, DateTimeOffset now, CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("Seq allocation must run inside the transaction that inserts the message.");
        }
        // One statement (both providers speak RETURNING): the lock is held for one round trip less.
        // Raw SQL bypasses value converters, so the timestamp goes in as the column stores it.
        var activity = db.Model.FindEntityType(typeof(Chatroom))!.FindProperty(nameof(Chatroom.LastActivityAt))!
            .GetTypeMapping().Converter?.ConvertToProvider(now) ?? now;
        var seqs = await db.Database
            .SqlQueryRaw<long>("UPDATE chatrooms SET last_seq = last_seq + 1, last_activity_at = {0} WHERE id = {1} RETURNING last_seq AS \"Value\"", activity, chatroomId)
            .ToListAsync(ct);
        return seqs.Count == 1 ? seqs[0] : null;
    }
}
