using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Attachments;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Attachments.Thumbnail;

public sealed record Request : AttachmentRequest;

public sealed class Endpoint(AttachmentFiles files) : Endpoint<Request, Results<FileStreamHttpResult, ProblemHttpResult>>
{
    public override void Configure()
    {
        Get(ApiRoutes.AttachmentThumbnail);
        Options(b => b.Produces(StatusCodes.Status200OK, contentType: "image/jpeg", additionalContentTypes: ["image/png"])
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status404NotFound));
        Summary(s => s.Summary = $"An image attachment's thumbnail: a JPEG or PNG at most {AttachmentImages.ThumbnailMaxSide} px on its longer side (404 for other files)");
    }

    public override async Task<Results<FileStreamHttpResult, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var attachment = await files.FindVisibleAsync(request.Id, request.CallerId, ct);
        var file = attachment is null || !ContentSniffer.IsImage(attachment.ContentType) ? null
            : await files.ServeAsync(HttpContext, AttachmentKeys.Thumbnail(attachment.Id), AttachmentImages.ThumbnailContentType(attachment.ContentType),
                attachment.Sha256 + "-thumbnail", attachment.CreatedAt, downloadName: null, ct);
        return file is null ? Problems.NotFound("No such image attachment.") : file;
    }
}
