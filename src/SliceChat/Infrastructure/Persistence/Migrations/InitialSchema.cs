using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Migrations;

namespace SliceChat.Infrastructure.Persistence.Migrations;

/// <summary>
/// The first schema, written by hand (the EF design-time package is not available to generate it):
/// users, login sessions and refresh tokens, chatrooms, members and messages.
/// </summary>
internal static class InitialSchema
{
    public static void Up(MigrationBuilder mb, StoreTypes t)
    {
        mb.CreateTable(
            name: "users",
            columns: table => new
            {
                id = table.Column<Guid>(type: t.Uuid, nullable: false),
                username = table.Column<string>(type: t.VarChar(64), maxLength: 64, nullable: false),
                normalized_username = table.Column<string>(type: t.VarChar(64), maxLength: 64, nullable: false),
                email = table.Column<string>(type: t.VarChar(254), maxLength: 254, nullable: true),
                normalized_email = table.Column<string>(type: t.VarChar(254), maxLength: 254, nullable: true),
                password_hash = table.Column<string>(type: t.Text, nullable: false),
                created_at = table.Column<DateTimeOffset>(type: t.Timestamp, nullable: false),
                deleted_at = table.Column<DateTimeOffset>(type: t.Timestamp, nullable: true),
            },
            constraints: table => table.PrimaryKey("PK_users", x => x.id));

        mb.CreateTable(
            name: "chatrooms",
            columns: table => new
            {
                id = table.Column<Guid>(type: t.Uuid, nullable: false),
                kind = table.Column<int>(type: t.Number32, nullable: false),
                name = table.Column<string>(type: t.VarChar(100), maxLength: 100, nullable: false),
                description = table.Column<string>(type: t.VarChar(1000), maxLength: 1000, nullable: true),
                is_private = table.Column<bool>(type: t.Flag, nullable: false),
                created_by = table.Column<Guid>(type: t.Uuid, nullable: true),
                created_at = table.Column<DateTimeOffset>(type: t.Timestamp, nullable: false),
                last_seq = table.Column<long>(type: t.Number64, nullable: false),
                last_activity_at = table.Column<DateTimeOffset>(type: t.Timestamp, nullable: false),
                direct_key = table.Column<string>(type: t.VarChar(65), maxLength: 65, nullable: true),
            },
            constraints: table => table.PrimaryKey("PK_chatrooms", x => x.id));

        mb.CreateTable(
            name: "login_sessions",
            columns: table => new
            {
                id = table.Column<Guid>(type: t.Uuid, nullable: false),
                user_id = table.Column<Guid>(type: t.Uuid, nullable: false),
                created_at = table.Column<DateTimeOffset>(type: t.Timestamp, nullable: false),
                expires_at = table.Column<DateTimeOffset>(type: t.Timestamp, nullable: false),
                revoked_at = table.Column<DateTimeOffset>(type: t.Timestamp, nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_login_sessions", x => x.id);
                table.ForeignKey("FK_login_sessions_users_user_id", x => x.user_id, "users", "id", onDelete: ReferentialAction.Cascade);
            });

        mb.CreateTable(
            name: "refresh_tokens",
            columns: table => new
            {
                id = table.Column<Guid>(type: t.Uuid, nullable: false),
                session_id = table.Column<Guid>(type: t.Uuid, nullable: false),
                token_hash = table.Column<string>(type: t.VarChar(64), maxLength: 64, nullable: false),
                created_at = table.Column<DateTimeOffset>(type: t.Timestamp, nullable: false),
                spent_at = table.Column<DateTimeOffset>(type: t.Timestamp, nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_refresh_tokens", x => x.id);
                table.ForeignKey("FK_refresh_tokens_login_sessions_session_id", x => x.session_id, "login_sessions", "id", onDelete: ReferentialAction.Cascade);
            });

        mb.CreateTable(
            name: "members",
            columns: table => new
            {
                chatroom_id = table.Column<Guid>(type: t.Uuid, nullable: false),
                user_id = table.Column<Guid>(type: t.Uuid, nullable: false),
                role = table.Column<int>(type: t.Number32, nullable: false),
                joined_at = table.Column<DateTimeOffset>(type: t.Timestamp, nullable: false),
                last_read_seq = table.Column<long>(type: t.Number64, nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_members", x => new { x.chatroom_id, x.user_id });
                table.ForeignKey("FK_members_chatrooms_chatroom_id", x => x.chatroom_id, "chatrooms", "id", onDelete: ReferentialAction.Cascade);
                table.ForeignKey("FK_members_users_user_id", x => x.user_id, "users", "id", onDelete: ReferentialAction.Cascade);
            });

        mb.CreateTable(
            name: "messages",
            columns: table => new
            {
                id = table.Column<Guid>(type: t.Uuid, nullable: false),
                chatroom_id = table.Column<Guid>(type: t.Uuid, nullable: false),
                seq = table.Column<long>(type: t.Number64, nullable: false),
                sender_id = table.Column<Guid>(type: t.Uuid, nullable: false),
                recipient_id = table.Column<Guid>(type: t.Uuid, nullable: true),
                content = table.Column<string>(type: t.VarChar(4000), maxLength: 4000, nullable: false),
                client_message_id = table.Column<string>(type: t.VarChar(64), maxLength: 64, nullable: true),
                created_at = table.Column<DateTimeOffset>(type: t.Timestamp, nullable: false),
                edited_at = table.Column<DateTimeOffset>(type: t.Timestamp, nullable: true),
                deleted_at = table.Column<DateTimeOffset>(type: t.Timestamp, nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_messages", x => x.id);
                table.ForeignKey("FK_messages_chatrooms_chatroom_id", x => x.chatroom_id, "chatrooms", "id", onDelete: ReferentialAction.Cascade);
                table.ForeignKey("FK_messages_users_recipient_id", x => x.recipient_id, "users", "id", onDelete: ReferentialAction.Restrict);
                table.ForeignKey("FK_messages_users_sender_id", x => x.sender_id, "users", "id", onDelete: ReferentialAction.Restrict);
            });

        mb.CreateIndex("IX_users_normalized_username", "users", "normalized_username", unique: true);
        mb.CreateIndex("IX_users_normalized_email", "users", "normalized_email", unique: true);
        mb.CreateIndex("IX_login_sessions_user_id", "login_sessions", "user_id");
        mb.CreateIndex("IX_refresh_tokens_token_hash", "refresh_tokens", "token_hash", unique: true);
        mb.CreateIndex("IX_refresh_tokens_session_id", "refresh_tokens", "session_id");
        mb.CreateIndex("IX_chatrooms_direct_key", "chatrooms", "direct_key", unique: true);
        mb.CreateIndex("IX_chatrooms_is_private_id", "chatrooms", ["is_private", "id"]);
        mb.CreateIndex("IX_members_user_id", "members", "user_id");
        mb.CreateIndex("IX_messages_chatroom_id_seq", "messages", ["chatroom_id", "seq"], unique: true);
        mb.CreateIndex("IX_messages_sender_id_chatroom_id_client_message_id", "messages", ["sender_id", "chatroom_id", "client_message_id"], unique: true);
        mb.CreateIndex("IX_messages_recipient_id", "messages", "recipient_id");
    }

    public static void Down(MigrationBuilder mb)
    {
        mb.DropTable("messages");
        mb.DropTable("members");
        mb.DropTable("refresh_tokens");
        mb.DropTable("login_sessions");
        mb.DropTable("chatrooms");
        mb.DropTable("users");
    }

    /// <summary>The model as it stands after this migration, as the EF model snapshot records it.</summary>
    public static void Snapshot(ModelBuilder mb, StoreTypes t)
    {
        const string ns = "SliceChat.Infrastructure.Persistence.Entities.";

        mb.Entity(ns + "Chatroom", b =>
        {
            b.Property<Guid>("Id").ValueGeneratedOnAdd().HasColumnType(t.Uuid).HasColumnName("id");
            b.Property(t.TimestampClr, "CreatedAt").HasColumnType(t.Timestamp).HasColumnName("created_at");
            b.Property<Guid?>("CreatedBy").HasColumnType(t.Uuid).HasColumnName("created_by");
            b.Property<string>("Description").HasMaxLength(1000).HasColumnType(t.VarChar(1000)).HasColumnName("description");
            b.Property<string>("DirectKey").HasMaxLength(65).HasColumnType(t.VarChar(65)).HasColumnName("direct_key");
            b.Property<bool>("IsPrivate").HasColumnType(t.Flag).HasColumnName("is_private");
            b.Property<int>("Kind").HasColumnType(t.Number32).HasColumnName("kind");
            b.Property(t.TimestampClr, "LastActivityAt").HasColumnType(t.Timestamp).HasColumnName("last_activity_at");
            b.Property<long>("LastSeq").HasColumnType(t.Number64).HasColumnName("last_seq");
            b.Property<string>("Name").IsRequired().HasMaxLength(100).HasColumnType(t.VarChar(100)).HasColumnName("name");
            b.HasKey("Id");
            b.HasIndex("DirectKey").IsUnique();
            b.HasIndex("IsPrivate", "Id");
            b.ToTable("chatrooms");
        });

        mb.Entity(ns + "LoginSession", b =>
        {
            b.Property<Guid>("Id").ValueGeneratedOnAdd().HasColumnType(t.Uuid).HasColumnName("id");
            b.Property(t.TimestampClr, "CreatedAt").HasColumnType(t.Timestamp).HasColumnName("created_at");
            b.Property(t.TimestampClr, "ExpiresAt").HasColumnType(t.Timestamp).HasColumnName("expires_at");
            b.Property(t.NullableTimestampClr, "RevokedAt").HasColumnType(t.Timestamp).HasColumnName("revoked_at");
            b.Property<Guid>("UserId").HasColumnType(t.Uuid).HasColumnName("user_id");
            b.HasKey("Id");
            b.HasIndex("UserId");
            b.ToTable("login_sessions");
        });

        mb.Entity(ns + "Member", b =>
        {
            b.Property<Guid>("ChatroomId").HasColumnType(t.Uuid).HasColumnName("chatroom_id");
            b.Property<Guid>("UserId").HasColumnType(t.Uuid).HasColumnName("user_id");
            b.Property(t.TimestampClr, "JoinedAt").HasColumnType(t.Timestamp).HasColumnName("joined_at");
            b.Property<long>("LastReadSeq").HasColumnType(t.Number64).HasColumnName("last_read_seq");
            b.Property<int>("Role").HasColumnType(t.Number32).HasColumnName("role");
            b.HasKey("ChatroomId", "UserId");
            b.HasIndex("UserId");
            b.ToTable("members");
        });

        mb.Entity(ns + "Message", b =>
        {
            b.Property<Guid>("Id").ValueGeneratedOnAdd().HasColumnType(t.Uuid).HasColumnName("id");
            b.Property<Guid>("ChatroomId").HasColumnType(t.Uuid).HasColumnName("chatroom_id");
            b.Property<string>("ClientMessageId").HasMaxLength(64).HasColumnType(t.VarChar(64)).HasColumnName("client_message_id");
            b.Property<string>("Content").IsRequired().HasMaxLength(4000).HasColumnType(t.VarChar(4000)).HasColumnName("content");
            b.Property(t.TimestampClr, "CreatedAt").HasColumnType(t.Timestamp).HasColumnName("created_at");
            b.Property(t.NullableTimestampClr, "DeletedAt").HasColumnType(t.Timestamp).HasColumnName("deleted_at");
            b.Property(t.NullableTimestampClr, "EditedAt").HasColumnType(t.Timestamp).HasColumnName("edited_at");
            b.Property<Guid?>("RecipientId").HasColumnType(t.Uuid).HasColumnName("recipient_id");
            b.Property<Guid>("SenderId").HasColumnType(t.Uuid).HasColumnName("sender_id");
            b.Property<long>("Seq").HasColumnType(t.Number64).HasColumnName("seq");
            b.HasKey("Id");
            b.HasIndex("RecipientId");
            b.HasIndex("ChatroomId", "Seq").IsUnique();
            b.HasIndex("SenderId", "ChatroomId", "ClientMessageId").IsUnique();
            b.ToTable("messages");
        });

        mb.Entity(ns + "RefreshToken", b =>
        {
            b.Property<Guid>("Id").ValueGeneratedOnAdd().HasColumnType(t.Uuid).HasColumnName("id");
            b.Property(t.TimestampClr, "CreatedAt").HasColumnType(t.Timestamp).HasColumnName("created_at");
            b.Property<Guid>("SessionId").HasColumnType(t.Uuid).HasColumnName("session_id");
            b.Property(t.NullableTimestampClr, "SpentAt").HasColumnType(t.Timestamp).HasColumnName("spent_at");
            b.Property<string>("TokenHash").IsRequired().HasMaxLength(64).HasColumnType(t.VarChar(64)).HasColumnName("token_hash");
            b.HasKey("Id");
            b.HasIndex("SessionId");
            b.HasIndex("TokenHash").IsUnique();
            b.ToTable("refresh_tokens");
        });

        mb.Entity(ns + "User", b =>
        {
            b.Property<Guid>("Id").ValueGeneratedOnAdd().HasColumnType(t.Uuid).HasColumnName("id");
            b.Property(t.TimestampClr, "CreatedAt").HasColumnType(t.Timestamp).HasColumnName("created_at");
            b.Property(t.NullableTimestampClr, "DeletedAt").HasColumnType(t.Timestamp).HasColumnName("deleted_at");
            b.Property<string>("Email").HasMaxLength(254).HasColumnType(t.VarChar(254)).HasColumnName("email");
            b.Property<string>("NormalizedEmail").HasMaxLength(254).HasColumnType(t.VarChar(254)).HasColumnName("normalized_email");
            b.Property<string>("NormalizedUsername").IsRequired().HasMaxLength(64).HasColumnType(t.VarChar(64)).HasColumnName("normalized_username");
            b.Property<string>("PasswordHash").IsRequired().HasColumnType(t.Text).HasColumnName("password_hash");
            b.Property<string>("Username").IsRequired().HasMaxLength(64).HasColumnType(t.VarChar(64)).HasColumnName("username");
            b.HasKey("Id");
            b.HasIndex("NormalizedEmail").IsUnique();
            b.HasIndex("NormalizedUsername").IsUnique();
            b.ToTable("users");
        });

        mb.Entity(ns + "LoginSession", b =>
            b.HasOne(ns + "User", null).WithMany().HasForeignKey("UserId").OnDelete(DeleteBehavior.Cascade).IsRequired());
        mb.Entity(ns + "Member", b =>
        {
            b.HasOne(ns + "Chatroom", null).WithMany().HasForeignKey("ChatroomId").OnDelete(DeleteBehavior.Cascade).IsRequired();
            b.HasOne(ns + "User", null).WithMany().HasForeignKey("UserId").OnDelete(DeleteBehavior.Cascade).IsRequired();
        });
        mb.Entity(ns + "Message", b =>
        {
            b.HasOne(ns + "Chatroom", null).WithMany().HasForeignKey("ChatroomId").OnDelete(DeleteBehavior.Cascade).IsRequired();
            b.HasOne(ns + "User", null).WithMany().HasForeignKey("RecipientId").OnDelete(DeleteBehavior.Restrict);
            b.HasOne(ns + "User", null).WithMany().HasForeignKey("SenderId").OnDelete(DeleteBehavior.Restrict).IsRequired();
        });
        mb.Entity(ns + "RefreshToken", b =>
            b.HasOne(ns + "LoginSession", null).WithMany().HasForeignKey("SessionId").OnDelete(DeleteBehavior.Cascade).IsRequired());
    }
}
