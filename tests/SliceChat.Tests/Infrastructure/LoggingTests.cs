using SliceChat.Features;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Infrastructure;

/// <summary>With the shipped logging configuration, no password or token reaches any log.</summary>
public sealed class LoggingTests(PostgresApp app) : IClassFixture<PostgresApp>
{
    private sealed class CapturingLogger : ILoggerProvider, ILogger
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Enqueue(formatter(state, exception) + exception);

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task AuthFlowsAndSockets_NeverLogPasswordsOrTokens()
    {
        var logs = new CapturingLogger();
        // The shipped appsettings.json levels, not the quieter ones the other tests use.
        var instance = app.StartInstance(s => s.Remove("Logging:LogLevel:Default"), logs, kestrel: true);
        var api = new Api(instance.CreateClient());

        var account = await api.RegisterAsync();
        var refreshed = await (await api.PostAsync(ApiRoutes.Refresh, new { refresh_token = account.RefreshToken })).Json();
        await api.PostAsync(ApiRoutes.Login, new { username = account.Username, password = "a wrong password" });
        await api.As(account).PatchAsync(ApiRoutes.Me, new { password = "another long password", current_password = account.Password });
        await using (var socket = await ChatSocket.ConnectKestrelAsync(instance, ApiRoutes.UserSocket, refreshed["access_token"].Text()))
        {
            await socket.NextAsync("ready");
            await socket.SendAsync(new { type = "auth", token = refreshed["access_token"].Text() });
            await socket.SendAsync(new { type = "ping" });
            await socket.NextAsync("pong");
        }

        logs.Lines.ShouldNotBeEmpty();
        var secrets = new[]
        {
            account.Password, "a wrong password", "another long password", account.AccessToken, account.RefreshToken,
            refreshed["access_token"].Text(), refreshed["refresh_token"].Text(),
        };
        foreach (var line in logs.Lines)
        {
            foreach (var secret in secrets)
            {
                line.ShouldNotContain(secret);
            }
        }
    }
}
