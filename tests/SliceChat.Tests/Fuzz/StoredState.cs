using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Fuzz;

/// <summary>
/// Everything the app stores, a row a line: users, rooms, members (read markers), messages (edits, deletions) in
/// full; login sessions and refresh tokens by id and state (their last use moves on every refresh).
/// </summary>
public static class StoredState
{
    private static readonly JsonSerializerOptions Options = new() { ReferenceHandler = ReferenceHandler.IgnoreCycles };

    public static async Task<List<string>> ReadAsync(AppFactory app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        IEnumerable<object>[] tables =
        [
            await db.Users.AsNoTracking().ToListAsync(),
            await db.Chatrooms.AsNoTracking().ToListAsync(),
            await db.Members.AsNoTracking().ToListAsync(),
            await db.Messages.AsNoTracking().ToListAsync(),
            await db.LoginSessions.AsNoTracking().Select(s => new { Session = s.Id, s.RevokedAt }).ToListAsync(),
            await db.RefreshTokens.AsNoTracking().Select(t => new { RefreshToken = t.Id, t.SpentAt }).ToListAsync(),
        ];
        return [.. tables.SelectMany(rows => rows.Select(row => $"{row.GetType().Name} {JsonSerializer.Serialize(row, row.GetType(), Options)}")).Order(StringComparer.Ordinal)];
    }

    /// <summary>Rows that came or changed ("+") and rows that went or changed ("-") since <paramref name="before"/>.</summary>
    public static string Changes(List<string> before, List<string> after) =>
        string.Join("\n", after.Except(before).Select(r => "+ " + r).Concat(before.Except(after).Select(r => "- " + r)));
}

/// <summary>Text a client may see in an error: ours, not the parser's, the runtime's or the database's.</summary>
public static class ErrorText
{
    private static readonly string[] Internal =
    [
        "System.", "Microsoft.", "JsonTokenType", "LineNumber", "BytePosition", "Path: $", "could not be converted", "Exception",
        "Npgsql", "SQLite", " at SliceChat", "Int32", "Int64", "Nullable`1", "Kestrel", "request body size",
    ];

    /// <summary>The internal fragment <paramref name="text"/> carries, or null.</summary>
    public static string? InternalPart(string text) => Internal.FirstOrDefault(i => text.Contains(i, StringComparison.Ordinal));
}
