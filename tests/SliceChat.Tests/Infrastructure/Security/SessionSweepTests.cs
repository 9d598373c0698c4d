using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SliceChat.Features;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Infrastructure.Security;

/// <summary>The socket sweep re-checks open sockets' login sessions once their cached answers expire.</summary>
public sealed class SessionSweepTests(PostgresApp app) : IClassFixture<PostgresApp>
{
    [Fact]
    public async Task Sweep_ReChecksTheSessionsOfManySockets_InOneQueryPerRound_AndStillClosesARevokedOne()
    {
        var counter = new CommandCounter();
        var instance = app.StartInstance(settings =>
        {
            CommandCounter.Enable(settings);
            settings["Jwt:SessionCacheSeconds"] = "1";
            settings["Limits:SocketSweepMilliseconds"] = "200";
        }, counter);
        var api = new Api(instance.CreateClient());
        var users = new List<Account>();
        var sockets = new List<ChatSocket>();
        try
        {
            for (var i = 0; i < 10; i++)
            {
                users.Add(await api.RegisterAsync());
                var socket = await ChatSocket.ConnectAsync(instance, ApiRoutes.UserSocket, users[^1].AccessToken);
                await socket.NextAsync("ready");
                sockets.Add(socket);
            }

            await Task.Delay(TimeSpan.FromSeconds(2)); // the sockets' sessions come due together
            counter.Reset();
            await Task.Delay(TimeSpan.FromSeconds(2.5)); // two expiries of every cached answer, a dozen sweeps
            var sessionQueries = counter.Commands.Count(c => c.Contains("login_sessions", StringComparison.Ordinal));
            // One query per round whose cached answers ran out (one per socket before: 10 a round).
            sessionQueries.ShouldBeInRange(1, 4, string.Join("\n", counter.Commands));

            // A revocation whose bus message never came is still found by the sweep.
            await using (var scope = instance.Services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
                await db.LoginSessions.Where(s => s.UserId == users[3].Id)
                    .ExecuteUpdateAsync(s => s.SetProperty(l => l.RevokedAt, DateTimeOffset.UtcNow));
            }
            ((int?)await sockets[3].ClosedAsync(TimeSpan.FromSeconds(5))).ShouldBe(4401);
            await sockets[4].SendAsync(new { type = "ping" });
            await sockets[4].NextAsync("pong"); // the others stay open
        }
        finally
        {
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }
}
