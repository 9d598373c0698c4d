using SliceChat.Features;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Infrastructure.Attachments;

/// <summary>An attachment as the API and socket events show it; <c>width</c>, <c>height</c> and <c>thumbnail_url</c> are null for non-images.</summary>
public sealed record AttachmentResponse(Guid Id, string Filename, string ContentType, long Size, int? Width, int? Height, string Sha256, DateTimeOffset CreatedAt)
{
    public string Url => ApiRoutes.Fill(ApiRoutes.Attachment, Id);

    public string? ThumbnailUrl => Width is null ? null : ApiRoutes.Fill(ApiRoutes.AttachmentThumbnail, Id);

    public static AttachmentResponse From(Attachment a) => new(a.Id, a.FileName, a.ContentType, a.Size, a.Width, a.Height, a.Sha256, a.CreatedAt);
}
