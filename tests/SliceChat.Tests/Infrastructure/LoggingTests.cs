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

/// <summary>With <c>Logging:Console:FormatterName=json</c>, an instance logs one JSON object a line, with its request's trace id.</summary>
public sealed class JsonLogTests : IDisposable
{
    private readonly string database = TestServers.CreatePostgresDatabase();

    [Fact]
    public async Task JsonConsoleLogs_EveryLineIsJson_RequestLinesAndTheProblemCarryTheCallersTraceId()
    {
        var settings = AppProcess.Settings(database, "test-" + Guid.NewGuid().ToString("N")[..8]);
        settings["Logging:Console:FormatterName"] = "json";
        settings["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information"; // a line per request start and end
        await using var instance = await AppProcess.StartAsync(settings);
        using var http = new HttpClient { BaseAddress = instance.Address };
        var traceId = System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/nothing-here");
        request.Headers.Add("traceparent", $"00-{traceId}-{System.Diagnostics.ActivitySpanId.CreateRandom().ToHexString()}-01");

        var problem = await (await http.SendAsync(request)).ShouldBeProblem(System.Net.HttpStatusCode.NotFound);

        problem["trace_id"].Text().ShouldBe(traceId);
        problem.AsObject().ContainsKey("traceId").ShouldBeFalse();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        List<System.Text.Json.Nodes.JsonNode> lines;
        do
        {
            await Task.Delay(200);
            lines = [.. instance.Output.Where(l => l.Length > 0).Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!)]; // throws on a line that is not JSON
        }
        while (!lines.Any(l => l.ToJsonString().Contains(traceId, StringComparison.Ordinal)) && DateTime.UtcNow < deadline);
        lines.ShouldAllBe(l => l["Timestamp"] != null && l["LogLevel"] != null && l["Category"] != null && l["Message"] != null);
        var requestLines = lines.Where(l => l["Scopes"]!.AsArray().Any(s => s!["RequestPath"] != null && s["RequestPath"].Text() == "/api/v1/nothing-here")).ToList();
        requestLines.Count.ShouldBeGreaterThanOrEqualTo(2); // request starting, request finished
        requestLines.ShouldAllBe(l => l["Scopes"]!.AsArray().Any(s => s!["TraceId"] != null && s["TraceId"].Text() == traceId));
    }

    public void Dispose() => TestServers.DropPostgresDatabase(database);
}
