namespace SliceChat.Infrastructure.Persistence.Entities;

/// <summary>
/// An uploaded file: its bytes live in the attachment store under <see cref="Id"/> (the client's file name is
/// kept for display only). Unused (<see cref="MessageId"/> null) it belongs to its uploader; once a message
/// references it, to that message's conversation.
/// </summary>
public sealed class Attachment
{
    public const int FileNameMax = 255;

    public Guid Id { get; set; }
    public Guid UploaderId { get; set; }
    public Guid? MessageId { get; set; }
    public required string FileName { get; set; }
    public required string ContentType { get; set; }
    public long Size { get; set; }
    public int? Width { get; set; }
    public int? Height { get; set; }
    /// <summary>Lower-case hex SHA-256 of the bytes.</summary>
    public required string Sha256 { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
