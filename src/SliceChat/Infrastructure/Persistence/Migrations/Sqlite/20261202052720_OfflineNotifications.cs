using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SliceChat.Infrastructure.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class OfflineNotifications : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "muted",
                table: "members",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateTable(
                name: "notification_deliveries",
                columns: table => new
                {
                    seq = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    user_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    chatroom_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    due_at = table.Column<long>(type: "INTEGER", nullable: false),
                    attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    payload = table.Column<string>(type: "TEXT", nullable: true),
                    delivery_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    composed_at = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_notification_deliveries", x => x.seq);
                    table.ForeignKey(
                        name: "FK_notification_deliveries_chatrooms_chatroom_id",
                        column: x => x.chatroom_id,
                        principalTable: "chatrooms",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_notification_deliveries_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_notification_deliveries_chatroom_id",
                table: "notification_deliveries",
                column: "chatroom_id");

            migrationBuilder.CreateIndex(
                name: "IX_notification_deliveries_due_at",
                table: "notification_deliveries",
                column: "due_at");

            migrationBuilder.CreateIndex(
                name: "IX_notification_deliveries_user_id_chatroom_id",
                table: "notification_deliveries",
                columns: new[] { "user_id", "chatroom_id" },
                unique: true,
                filter: "payload IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "notification_deliveries");

            migrationBuilder.DropColumn(
                name: "muted",
                table: "members");
        }
    }
}
