using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Infrastructure.Attachments;

/// <summary>A caller's request about the attachment in the route's <c>{id}</c>.</summary>
public abstract record AttachmentRequest : Slices.CallerRequest
{
    [FastEndpoints.RouteParam]
    public Guid Id { get; init; }
}

/// <summary>Finding an attachment the caller may see, and answering with its bytes so that a browser never runs them.</summary>
public sealed class AttachmentFiles(ChatDbContext db, IAttachmentStore store)
{
    /// <summary>
    /// The attachment, when the caller may see it: its uploader while no message uses it, then the members of the
    /// message's conversation (a member removed since sees it no more). Null otherwise, as for an unknown id.
    /// </summary>
    public Task<Attachment?> FindVisibleAsync(Guid id, Guid callerId, CancellationToken ct) =>
        db.Attachments.AsNoTracking()
            .Where(a => a.Id == id)
            .Where(a => (a.MessageId == null && a.UploaderId == callerId)
                || db.Messages.Any(m => m.Id == a.MessageId && db.Members.Any(x => x.ChatroomId == m.ChatroomId && x.UserId == callerId)))
            .FirstOrDefaultAsync(ct);

    /// <summary>
    /// The stored bytes under <paramref name="key"/> with the stored type, an ETag (<c>If-None-Match</c> answers 304),
    /// ranges (206), and headers that keep a browser from sniffing or running them; null when the store has nothing.
    /// </summary>
    public async Task<FileStreamHttpResult?> ServeAsync(HttpContext http, string key, string contentType, string etag, DateTimeOffset createdAt,
        string? downloadName, CancellationToken ct)
    {
        var stream = await store.OpenReadAsync(key, ct);
        if (stream is null)
        {
            return null;
        }
        var headers = http.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        // Visibility can change (a member removed): a cached copy is checked again with its ETag.
        headers.CacheControl = "private, no-cache";
        var disposition = new ContentDispositionHeaderValue(downloadName is null ? "inline" : "attachment");
        if (downloadName is not null)
        {
            disposition.SetHttpFileName(SafeFileName(downloadName));
        }
        headers.ContentDisposition = disposition.ToString();
        return TypedResults.File(stream, contentType, lastModified: createdAt, entityTag: new EntityTagHeaderValue($"\"{etag}\""), enableRangeProcessing: true);
    }

    /// <summary>The last segment of the client's name, without control characters (the header's filename* keeps it in UTF-8).</summary>
    public static string SafeFileName(string name)
    {
        var last = name.Split('/', '\\').LastOrDefault(s => s.Trim().Trim('.').Length > 0)?.Trim() ?? "";
        var clean = new string([.. last.Where(c => !char.IsControl(c) && c is not '"')]);
        return clean.Length == 0 ? "file" : clean;
    }
}
