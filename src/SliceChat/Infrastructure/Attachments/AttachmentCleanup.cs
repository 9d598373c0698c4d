using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Operations;
using SliceChat.Infrastructure.Persistence;

namespace SliceChat.Infrastructure.Attachments;

/// <summary>
/// Deletes attachments with what they belong to: a deleted message's, a deleted room's, and uploads no message took
/// within <c>Limits:UnusedAttachmentHours</c>. Rows go first, then the files (a file whose delete fails is logged and
/// left behind: without its row nobody can reach it).
/// </summary>
public sealed partial class AttachmentCleanup(ChatDbContext db, IAttachmentStore store, IOptions<LimitsOptions> limits, ILogger<AttachmentCleanup> logger)
{
    public async Task DeleteOfMessageAsync(Guid messageId, CancellationToken ct)
    {
        var ids = await db.Attachments.Where(a => a.MessageId == messageId).Select(a => a.Id).ToListAsync(ct);
        if (ids.Count > 0)
        {
            await db.Attachments.Where(a => a.MessageId == messageId).ExecuteDeleteAsync(ct);
            await DeleteFilesAsync(ids, ct);
        }
    }

    /// <summary>The room's attachment rows go with its messages (cascading keys); their ids are read first, and the files deleted after <paramref name="deleteRoom"/>.</summary>
    public async Task DeleteOfRoomAsync(Guid chatroomId, Func<Task<int>> deleteRoom, CancellationToken ct)
    {
        var ids = await (from a in db.Attachments join m in db.Messages on a.MessageId equals m.Id where m.ChatroomId == chatroomId select a.Id).ToListAsync(ct);
        await deleteRoom();
        await DeleteFilesAsync(ids, ct);
    }

    /// <summary>The user's uploads that no message uses (an account being deleted).</summary>
    public async Task DeleteUnusedOfUserAsync(Guid userId, CancellationToken ct) =>
        await DeleteUnusedAsync(db.Attachments.Where(a => a.UploaderId == userId && a.MessageId == null), ct);

    /// <summary>Uploads no message took within <c>Limits:UnusedAttachmentHours</c>; returns how many went.</summary>
    public async Task<int> SweepUnusedAsync(CancellationToken ct)
    {
        var before = Clock.Now().AddHours(-limits.Value.UnusedAttachmentHours);
        return await DeleteUnusedAsync(db.Attachments.Where(a => a.MessageId == null && a.CreatedAt < before), ct);
    }

    private async Task<int> DeleteUnusedAsync(IQueryable<Persistence.Entities.Attachment> unused, CancellationToken ct)
    {
        var candidates = await unused.OrderBy(a => a.Id).Select(a => a.Id).Take(1000).ToListAsync(ct);
        if (candidates.Count == 0)
        {
            return 0;
        }
        // Only those still unused: a send may claim one between the two statements.
        await db.Attachments.Where(a => candidates.Contains(a.Id) && a.MessageId == null).ExecuteDeleteAsync(ct);
        var kept = await db.Attachments.Where(a => candidates.Contains(a.Id)).Select(a => a.Id).ToListAsync(ct);
        var deleted = candidates.Except(kept).ToList();
        await DeleteFilesAsync(deleted, ct);
        return deleted.Count;
    }

    private async Task DeleteFilesAsync(List<Guid> ids, CancellationToken ct)
    {
        foreach (var id in ids)
        {
            try
            {
                await store.DeleteAsync(AttachmentKeys.Original(id), ct);
                await store.DeleteAsync(AttachmentKeys.Thumbnail(id), ct);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogFileNotDeleted(logger, e, id);
            }
        }
    }

    [LoggerMessage(LogLevel.Warning, "The files of attachment {Id} could not be deleted")]
    private static partial void LogFileNotDeleted(ILogger logger, Exception exception, Guid id);
}

/// <summary>Runs <see cref="AttachmentCleanup.SweepUnusedAsync"/> every <c>Limits:AttachmentSweepMinutes</c> on every instance (the deletes are idempotent).</summary>
public sealed class AttachmentSweeper(IServiceScopeFactory scopes, IOptions<LimitsOptions> limits, ILogger<AttachmentSweeper> logger)
    : PeriodicCleanup(TimeSpan.FromMinutes(limits.Value.AttachmentSweepMinutes), logger)
{
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var cleanup = scope.ServiceProvider.GetRequiredService<AttachmentCleanup>();
        int swept, total = 0;
        while ((swept = await cleanup.SweepUnusedAsync(ct)) > 0)
        {
            total += swept;
        }
        return total;
    }

    protected override string Removes => "unused attachments";

    protected override Task<int> RoundAsync(CancellationToken ct) => SweepAsync(ct);
}
