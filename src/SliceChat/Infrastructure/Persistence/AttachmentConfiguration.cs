using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Infrastructure.Persistence;

public sealed class AttachmentConfiguration : IEntityTypeConfiguration<Attachment>
{
    public void Configure(EntityTypeBuilder<Attachment> builder)
    {
        builder.ToTable("attachments");
        builder.Property(a => a.FileName).HasMaxLength(Attachment.FileNameMax);
        builder.Property(a => a.ContentType).HasMaxLength(100);
        builder.Property(a => a.Sha256).HasMaxLength(64);
        // A message's attachment rows go with it (a room's messages go with the room); the files are deleted by the app.
        builder.HasOne<Message>().WithMany().HasForeignKey(a => a.MessageId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<User>().WithMany().HasForeignKey(a => a.UploaderId).OnDelete(DeleteBehavior.Restrict);
        // A message's attachments, and the sweep of unused ones (message_id null) by age.
        builder.HasIndex(a => new { a.MessageId, a.CreatedAt });
        builder.HasIndex(a => a.UploaderId);
    }
}
