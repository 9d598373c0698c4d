using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Infrastructure.Persistence;

/// <summary>
/// The one model of the app. Each provider has its own subclass so that each has its own migrations
/// (<see cref="PostgresChatDbContext"/>, <see cref="SqliteChatDbContext"/>).
/// </summary>
public abstract class ChatDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<User> Users => Set<User>();
    public DbSet<LoginSession> LoginSessions => Set<LoginSession>();
    public DbSet<RefreshToken> RefreshTokens => Set<RefreshToken>();
    public DbSet<Chatroom> Chatrooms => Set<Chatroom>();
    public DbSet<Member> Members => Set<Member>();
    public DbSet<Message> Messages => Set<Message>();
    public DbSet<Attachment> Attachments => Set<Attachment>();
    public DbSet<NotificationDelivery> NotificationDeliveries => Set<NotificationDelivery>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        if (Database.IsSqlite())
        {
            // SQLite cannot compare or order DateTimeOffset text; stored as a sortable 64-bit number instead.
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        }
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<User>(e =>
        {
            e.ToTable("users");
            e.Property(u => u.Username).HasMaxLength(64);
            e.Property(u => u.NormalizedUsername).HasMaxLength(64);
            e.Property(u => u.Email).HasMaxLength(254);
            e.Property(u => u.NormalizedEmail).HasMaxLength(254);
            e.HasIndex(u => u.NormalizedUsername).IsUnique();
            e.HasIndex(u => u.NormalizedEmail).IsUnique();
        });

        modelBuilder.Entity<LoginSession>(e =>
        {
            e.ToTable("login_sessions");
            e.Property(s => s.UserAgent).HasMaxLength(LoginSession.UserAgentMax);
            e.HasOne<User>().WithMany().HasForeignKey(s => s.UserId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(s => s.UserId);
        });

        modelBuilder.Entity<RefreshToken>(e =>
        {
            e.ToTable("refresh_tokens");
            e.Property(t => t.TokenHash).HasMaxLength(64);
            e.HasOne<LoginSession>().WithMany().HasForeignKey(t => t.SessionId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(t => t.TokenHash).IsUnique();
            e.HasIndex(t => t.SessionId);
        });

        modelBuilder.Entity<Chatroom>(e =>
        {
            e.ToTable("chatrooms");
            e.Property(c => c.Name).HasMaxLength(100);
            e.Property(c => c.Description).HasMaxLength(1000);
            e.Property(c => c.DirectKey).HasMaxLength(65);
            e.HasIndex(c => c.DirectKey).IsUnique();
            e.HasIndex(c => new { c.IsPrivate, c.Id });
        });

        modelBuilder.Entity<Member>(e =>
        {
            e.ToTable("members");
            e.HasKey(m => new { m.ChatroomId, m.UserId });
            e.HasOne<Chatroom>().WithMany().HasForeignKey(m => m.ChatroomId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<User>().WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(m => m.UserId);
        });

        modelBuilder.Entity<Message>(e =>
        {
            e.ToTable("messages");
            e.Property(m => m.Content).HasMaxLength(4000);
            e.Property(m => m.ClientMessageId).HasMaxLength(64);
            e.HasOne<Chatroom>().WithMany().HasForeignKey(m => m.ChatroomId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<User>().WithMany().HasForeignKey(m => m.SenderId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<User>().WithMany().HasForeignKey(m => m.RecipientId).OnDelete(DeleteBehavior.Restrict);
            e.HasIndex(m => new { m.ChatroomId, m.Seq }).IsUnique();
            e.HasIndex(m => new { m.SenderId, m.ChatroomId, m.ClientMessageId }).IsUnique();
            e.HasIndex(m => m.RecipientId);
        });

        modelBuilder.ApplyConfiguration(new AttachmentConfiguration());
        modelBuilder.ApplyConfiguration(new NotificationDeliveryConfiguration());

        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            foreach (var property in entity.GetProperties())
            {
                property.SetColumnName(JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name));
            }
        }
    }
}

public sealed class PostgresChatDbContext(DbContextOptions<PostgresChatDbContext> options) : ChatDbContext(options);

public sealed class SqliteChatDbContext(DbContextOptions<SqliteChatDbContext> options) : ChatDbContext(options);
