using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SliceChat.Infrastructure.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class LoginSessionDevices : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "last_used_at",
                table: "login_sessions",
                type: "timestamp with time zone",
                nullable: false,
                defaultValue: new DateTimeOffset(new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)));

            migrationBuilder.AddColumn<string>(
                name: "user_agent",
                table: "login_sessions",
                type: "character varying(256)",
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
