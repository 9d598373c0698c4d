using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Persistence;

namespace SliceChat.Infrastructure.Attachments;

/// <summary>A claim that failed after its check (another instance's send took the upload): the caller's transaction rolls back.</summary>
public sealed class AttachmentClaimLostException() : Exception("An attachment was claimed by another message meanwhile.");

/// <summary>
/// Messages taking their attachments, in the message's transaction: each must be the sender's own upload that no
/// message uses yet. A message's attachments are listed in upload order (by their time-ordered id).
/// </summary>
public sealed class AttachmentClaims(ChatDbContext db)
{
    /// <summary>
    /// In one query, for each send (its sender and attachment ids), its attachments, or null when one of them is
    /// unknown, not the sender's, already used, or wanted by an earlier send of the same list.
    /// </summary>
    public async Task<List<List<AttachmentResponse>?>> CheckAsync(IReadOnlyList<(Guid SenderId, IReadOnlyList<Guid> Ids)> sends, CancellationToken ct)
    {
        var wanted = sends.SelectMany(s => s.Ids).Distinct().ToList();
        var unused = await db.Attachments.AsNoTracking().Where(a => wanted.Contains(a.Id) && a.MessageId == null).ToDictionaryAsync(a => a.Id, ct);
        var taken = new HashSet<Guid>();
        var results = new List<List<AttachmentResponse>?>(sends.Count);
        foreach (var (sender, ids) in sends)
        {
            if (ids.All(id => unused.TryGetValue(id, out var a) && a.UploaderId == sender && !taken.Contains(id)))
            {
                taken.UnionWith(ids);
                results.Add([.. ids.Order().Select(id => AttachmentResponse.From(unused[id]))]);
            }
            else
            {
                results.Add(null);
            }
        }
        return results;
    }

    /// <summary>Gives the checked attachments to the message; throws <see cref="AttachmentClaimLostException"/> when one was taken since the check.</summary>
    public async Task ClaimAsync(Guid messageId, Guid senderId, IReadOnlyList<Guid> ids, CancellationToken ct)
    {
        var claimed = await db.Attachments.Where(a => ids.Contains(a.Id) && a.UploaderId == senderId && a.MessageId == null)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.MessageId, messageId), ct);
        if (claimed != ids.Count)
        {
            throw new AttachmentClaimLostException();
        }
    }
}
