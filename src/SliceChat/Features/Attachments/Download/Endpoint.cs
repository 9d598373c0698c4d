using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Attachments;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Attachments.Download;

public sealed record Request : AttachmentRequest;

public sealed class Endpoint(AttachmentFiles files) : Endpoint<Request, Results<FileStreamHttpResult, ProblemHttpResult>>
{
    public override void Configure()
    {
        Get(ApiRoutes.Attachment);
        Options(b => b.Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .Produces(StatusCodes.Status206PartialContent, contentType: "application/octet-stream")
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status404NotFound));
        Summary(s =>
        {
            s.Summary = "Download an attachment";
            s.Description = "The stored bytes with their stored type; images inline, everything else as a download. ETag / If-None-Match (304) and Range (206) are supported.";
        });
    }

    public override async Task<Results<FileStreamHttpResult, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var attachment = await files.FindVisibleAsync(request.Id, request.CallerId, ct);
        var downloadName = attachment is null || ContentSniffer.IsImage(attachment.ContentType) ? null : attachment.FileName;
        var file = attachment is null ? null
            : await files.ServeAsync(HttpContext, AttachmentKeys.Original(attachment.Id), attachment.ContentType, attachment.Sha256, attachment.CreatedAt, downloadName, ct);
        return file is null ? Problems.NotFound("No such attachment.") : file;
    }
}
