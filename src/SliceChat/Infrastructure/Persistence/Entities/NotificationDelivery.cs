using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace SliceChat.Infrastructure.Persistence.Entities;

/// <summary>
/// A row of the offline-notification outbox: one user's window of one conversation. A message stored for a member
/// opens the pair's window (inserted in the message's transaction, unless one is open already); when it is due, a
/// worker composes the webhook once (<see cref="Payload"/>, <see cref="DeliveryId"/>), which every retry sends again,
/// or drops the row when there is nothing to send. Times are unix milliseconds, so that raw SQL compares them alike on
/// every provider.
/// </summary>
public sealed class NotificationDelivery
{
    public long Seq { get; set; }
    public Guid UserId { get; set; }
    public Guid ChatroomId { get; set; }
    /// <summary>When a worker may take it next: the window's end, a retry's back-off, or the end of a worker's claim.</summary>
    public long DueAt { get; set; }
    public int Attempts { get; set; }
    /// <summary>The webhook body, once composed; null while the window is open (then new messages join it).</summary>
    public string? Payload { get; set; }
    public Guid? DeliveryId { get; set; }
    /// <summary>When it was composed: retries stop <c>Notifications:RetryHours</c> after.</summary>
    public long? ComposedAt { get; set; }
}

public sealed class NotificationDeliveryConfiguration : IEntityTypeConfiguration<NotificationDelivery>
{
    public void Configure(EntityTypeBuilder<NotificationDelivery> builder)
    {
        builder.ToTable("notification_deliveries");
        builder.HasKey(d => d.Seq);
        builder.Property(d => d.Seq).ValueGeneratedOnAdd();
        builder.HasOne<User>().WithMany().HasForeignKey(d => d.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Chatroom>().WithMany().HasForeignKey(d => d.ChatroomId).OnDelete(DeleteBehavior.Cascade);
        // One open window per user and conversation; composed deliveries no longer take part.
        builder.HasIndex(d => new { d.UserId, d.ChatroomId }).IsUnique().HasFilter("payload IS NULL");
        builder.HasIndex(d => d.DueAt);
        builder.HasIndex(d => d.ChatroomId);
    }
}
