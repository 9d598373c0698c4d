using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Infrastructure;

/// <summary>On PostgreSQL the send path's and history's statements are prepared on their connection, once; other statements are not.</summary>
public sealed class PreparedStatementsTests(PostgresApp app) : IClassFixture<PostgresApp>
{
    [Fact]
    public async Task AccessCheck_BatchStatement_AndHistoryPage_ArePreparedOnceOnTheirConnection()
    {
        var me = await app.Api.RegisterAsync();
        var room = await app.Api.CreateRoomAsync(me);

        await using var scope = app.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        await db.Database.OpenConnectionAsync(); // one physical connection for everything below
        await db.Database.ExecuteSqlRawAsync("DEALLOCATE ALL");
        var access = scope.ServiceProvider.GetRequiredService<ChatroomAccess>();
        var store = scope.ServiceProvider.GetRequiredService<MessageStore>();
        var history = scope.ServiceProvider.GetRequiredService<MessageHistory>();

        for (var i = 0; i < 3; i++)
        {
            (await access.FindForSenderAsync(room, me.Id, default)).ShouldNotBeNull();
            var results = new SendResult?[1];
            await store.StoreBatchAsync([new PendingSend(room, me.Id, $"prepared {i}", $"prepared-{i}")], results, default);
            results[0]!.Created.ShouldBeTrue();
            (await history.PageAsync(room, null, null, 50, default)).Items.Count.ShouldBe(i + 1);
            (await db.Users.CountAsync(u => u.Id == me.Id)).ShouldBe(1);
        }

        var prepared = await db.Database.SqlQueryRaw<string>("SELECT statement AS \"Value\" FROM pg_prepared_statements").ToListAsync();
        prepared.Count.ShouldBe(3, string.Join("\n---\n", prepared)); // each once, though each ran three times
        prepared.ShouldAllBe(sql => sql.StartsWith("-- prepared"));
        prepared.ShouldContain(sql => sql.Contains("FOR UPDATE") && sql.Contains("original_id")); // the repeat lookup is part of the batch
        prepared.ShouldContain(sql => sql.Contains("ORDER BY m.seq DESC"));
        prepared.ShouldNotContain(sql => sql.Contains("count(*)::int", StringComparison.OrdinalIgnoreCase)); // the untagged CountAsync
    }
}
