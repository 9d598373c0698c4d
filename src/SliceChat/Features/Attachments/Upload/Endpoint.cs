using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Attachments;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Attachments.Upload;

public sealed record Request : CallerRequest
{
    /// <summary>
    /// For the OpenAPI document only: the part is streamed by the handler (form binding is off, so this stays
    /// null and the file is never buffered).
    /// </summary>
    public IFormFile? File { get; init; }
}

/// <summary>
/// One multipart part <c>file</c>, streamed to the store as it arrives (never held whole): its type decided from its
/// first bytes, its SHA-256 computed on the way, 413 at the first byte past <c>Limits:AttachmentMaxBytes</c>. An
/// image gets its dimensions and a thumbnail before the row is written; a file that fails a check leaves nothing behind.
/// </summary>
public sealed class Endpoint(ChatDbContext db, IAttachmentStore store, AttachmentImages images, IOptions<LimitsOptions> limits)
    : Endpoint<Request, Results<Created<AttachmentResponse>, ValidationProblem, ProblemHttpResult>>
{
    public const string FilePart = "file";

    public override void Configure()
    {
        Post(ApiRoutes.Attachments);
        AllowFileUploads(dontAutoBindFormData: true);
        var maxBytes = Config.GetValue<long?>($"{LimitsOptions.Section}:{nameof(LimitsOptions.AttachmentMaxBytes)}") ?? new LimitsOptions().AttachmentMaxBytes;
        // Routing would answer another content type 415 before authentication (so a request without a token
        // would not get its 401): every type reaches the handler, which answers what is not multipart with 400.
        Options(b => b.RateLimited(RateLimitPolicies.Writes)
            .WithMetadata(new Microsoft.AspNetCore.Http.Metadata.AcceptsMetadata(["multipart/form-data", "*/*"], typeof(Request)))
            .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(AttachmentServices.UploadBodyLimit(maxBytes)))
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType));
        Summary(s =>
        {
            s.Summary = "Upload a file to attach to a message";
            s.Description = "multipart/form-data with one part `file`. The type is decided from the bytes: PNG, JPEG, GIF, WebP, PDF, plain text, ZIP, MP3, MP4, WebM and Ogg are accepted (415 otherwise). "
                + "Until a message uses it, only the uploader sees it; unused uploads are deleted after Limits:UnusedAttachmentHours.";
        });
    }

    public override async Task<Results<Created<AttachmentResponse>, ValidationProblem, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var maxBytes = limits.Value.AttachmentMaxBytes;
        if (!MediaTypeIsMultipart(HttpContext.Request.ContentType))
        {
            return NoFile();
        }
        try
        {
            await foreach (var section in FormFileSectionsAsync(ct))
            {
                if (section?.Name == FilePart && section.FileStream is { } body)
                {
                    return await StoreAsync(request.CallerId, section.FileName, body, maxBytes, ct);
                }
            }
            return NoFile();
        }
        catch (AttachmentTooLargeException)
        {
            return TooLarge(maxBytes);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(maxBytes);
        }
        catch (InvalidDataException)
        {
            return Problems.Invalid(FilePart, "The multipart body could not be read.");
        }
    }

    private async Task<Results<Created<AttachmentResponse>, ValidationProblem, ProblemHttpResult>> StoreAsync(
        Guid uploaderId, string fileName, Stream body, long maxBytes, CancellationToken ct)
    {
        await using var upload = new InspectedUploadStream(body, maxBytes);
        await upload.ReadPrefixAsync(ct);
        if (upload.Size == 0)
        {
            return Problems.Invalid(FilePart, "The file is empty.");
        }
        var contentType = ContentSniffer.Sniff(upload.Prefix);
        if (contentType is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: "The file's bytes are none of the accepted types: PNG, JPEG, GIF, WebP, PDF, plain text, ZIP, MP3, MP4, WebM, Ogg.");
        }

        var id = SequentialIds.Next();
        await store.SaveAsync(AttachmentKeys.Original(id), upload, ct);
        var attachment = new Attachment
        {
            Id = id,
            UploaderId = uploaderId,
            FileName = DisplayName(fileName),
            ContentType = contentType,
            Size = upload.Size,
            Sha256 = upload.Sha256Hex(),
            CreatedAt = Clock.Now(),
        };
        var stored = false;
        try
        {
            if (ContentSniffer.IsImage(contentType))
            {
                using var thumbnail = new MemoryStream();
                var image = await images.InspectAsync(async c => (await store.OpenReadAsync(AttachmentKeys.Original(id), c))!, contentType, thumbnail, ct);
                switch (image.Outcome)
                {
                    case ImageOutcome.TooManyPixels:
                        return Problems.Invalid(FilePart,
                            $"The image is {image.Width}x{image.Height} pixels; at most {limits.Value.AttachmentMaxImagePixels} pixels are accepted.");
                    case ImageOutcome.Unreadable:
                        return Problems.Invalid(FilePart, "The image cannot be read.");
                }
                thumbnail.Position = 0;
                await store.SaveAsync(AttachmentKeys.Thumbnail(id), thumbnail, ct);
                attachment.Width = image.Width;
                attachment.Height = image.Height;
            }
            db.Attachments.Add(attachment);
            await db.SaveChangesAsync(ct);
            stored = true;
        }
        finally
        {
            if (!stored)
            {
                await store.DeleteAsync(AttachmentKeys.Original(id), CancellationToken.None);
                await store.DeleteAsync(AttachmentKeys.Thumbnail(id), CancellationToken.None);
            }
        }
        return TypedResults.Created(ApiRoutes.Fill(ApiRoutes.Attachment, id), AttachmentResponse.From(attachment));
    }

    private static bool MediaTypeIsMultipart(string? contentType) =>
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)
        && media.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
        && Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(media.Boundary).Length > 0;

    /// <summary>The client's name as it was sent (shown and offered on download, never a path), without control characters.</summary>
    private static string DisplayName(string fileName)
    {
        var clean = new string([.. fileName.Where(c => !char.IsControl(c))]).Trim();
        clean = clean.Length > Attachment.FileNameMax ? clean[..Attachment.FileNameMax] : clean;
        return clean.Length == 0 ? "file" : clean;
    }

    private static ValidationProblem NoFile() => Problems.Invalid(FilePart, "Send the file as the multipart/form-data part 'file'.");

    private static ProblemHttpResult TooLarge(long maxBytes) => TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "Payload too large", detail: $"The file is over the limit of {maxBytes} bytes.");
}
