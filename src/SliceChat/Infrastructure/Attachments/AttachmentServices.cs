using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Persistence;

namespace SliceChat.Infrastructure.Attachments;

public static class AttachmentServices
{
    /// <summary>The local directory of attachment files; default <c>attachments</c> under <c>Storage:DataDirectory</c>.</summary>
    public const string DirectorySetting = "Storage:AttachmentsDirectory";

    public static WebApplicationBuilder AddAttachments(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<LimitsOptions>()
            .Validate(o => o.AttachmentMaxBytes > 0 && o.AttachmentMaxImagePixels > 0 && o.ImageDecodesInFlight > 0
                && o.UnusedAttachmentHours > 0 && o.AttachmentSweepMinutes > 0, "Attachment limits must be positive.");
        var configured = builder.Configuration[DirectorySetting];
        var directory = string.IsNullOrWhiteSpace(configured) ? Path.Combine(PersistenceServices.DataDirectory(builder), "attachments") : configured;
        builder.Services.AddSingleton<IAttachmentStore>(new LocalAttachmentStore(directory));
        builder.Services.AddSingleton<AttachmentImages>();
        builder.Services.AddScoped<AttachmentClaims>();
        builder.Services.AddScoped<AttachmentFiles>();
        builder.Services.AddScoped<AttachmentCleanup>();
        builder.Services.AddSingleton<AttachmentSweeper>();
        builder.Services.AddHostedService(services => services.GetRequiredService<AttachmentSweeper>());
        return builder;
    }

    /// <summary>The upload's own body limit: the largest attachment and room for the multipart framing around it.</summary>
    public static long UploadBodyLimit(long attachmentMaxBytes) => attachmentMaxBytes + MultipartFramingBytes;

    private const long MultipartFramingBytes = 16 * 1024;
}
