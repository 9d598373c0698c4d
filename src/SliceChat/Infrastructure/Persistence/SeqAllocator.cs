using Microsoft.EntityFrameworkCore;

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
        var updated = await db.Chatrooms
            .Where(c => c.Id == chatroomId)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.LastSeq, c => c.LastSeq + 1).SetProperty(c => c.LastActivityAt, now), ct);
        if (updated == 0)
        {
            return null;
        }
        return await db.Chatrooms.Where(c => c.Id == chatroomId).Select(c => c.LastSeq).SingleAsync(ct);
    }
}
