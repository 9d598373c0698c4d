using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SliceChat.Infrastructure.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class LoginSessionDevices : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "last_used_at",
                table: "login_sessions",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<string>(
                name: "user_agent",
                table: "login_sessions",
                type: "TEXT",
                maxLength: 256,
                nullable: true);

            // Sessions from before this column were last used when they were created, as far as anyone knows.
            migrationBuilder.Sql("UPDATE login_sessions SET last_used_at = created_at;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "last_used_at",
                table: "login_sessions");

            migrationBuilder.DropColumn(
                name: "user_agent",
                table: "login_sessions");
        }
    }
}
