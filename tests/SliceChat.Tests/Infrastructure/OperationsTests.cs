using SliceChat.Features;
using System.Net;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Infrastructure;

public sealed class OperationsTests(PostgresApp app) : IClassFixture<PostgresApp>
{
    [Fact]
    public async Task HealthLive_Returns200()
    {
        (await app.Api.GetAsync("/health/live")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task HealthReady_DatabaseUp_Returns200Healthy()
    {
        var response = await app.Api.GetAsync("/health/ready");
        await response.ShouldHaveStatus(HttpStatusCode.OK);
        (await response.Json())["status"].Text().ShouldBe("healthy");
    }

    [Fact]
    public async Task OpenApi_ListsRoutes_AndLetsTheDocsPageAuthorize()
    {
        var response = await app.Api.GetAsync("/openapi/v1.json");
        await response.ShouldHaveStatus(HttpStatusCode.OK);
        var document = await response.Json();
        var paths = document["paths"]!.AsObject().Select(p => p.Key).ToList();
        document["components"]!["securitySchemes"]!["oauth2"]!["flows"]!["password"]!["tokenUrl"].Text().ShouldBe(ApiRoutes.Login);
        paths.ShouldContain(ApiRoutes.Register);
        paths.ShouldContain(ApiRoutes.Login);
        paths.ShouldContain(ApiRoutes.Me);
        paths.ShouldContain("/api/v1/chatrooms/{id}/messages");
        paths.ShouldContain(ApiRoutes.Conversations);
    }

    [Fact]
    public async Task OpenApiDocument_DescribesEveryOperation_InSnakeCase_WithTheSocketProtocol()
    {
        var document = await (await app.Api.GetAsync("/openapi/v1.json")).Json();
        document["info"]!["description"].Text().ShouldContain("message.created");
        var operations = document["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject().Select(o => o.Value!)).ToList();
        operations.Count.ShouldBeGreaterThan(25);
        operations.ShouldAllBe(o => o["operationId"] != null && o["summary"] != null && o["tags"]!.AsArray().Count == 1);
        var schemas = document["components"]!["schemas"]!.AsObject();
        var propertyNames = schemas.SelectMany(s => s.Value!["properties"]?.AsObject().Select(p => p.Key) ?? []).ToList();
        propertyNames.ShouldContain("client_message_id");
        propertyNames.ShouldAllBe(n => !n.Any(char.IsUpper));
        var register = schemas["AuthRegisterRequest"]!;
        register["example"]!["username"].Text().ShouldNotBeNullOrEmpty();
        register["properties"]!["password"]!["minLength"]!.GetValue<int>().ShouldBe(8);
    }

    [Theory]
    [InlineData("/docs/index.html")]
    [InlineData("/docs")]
    [InlineData("/swagger")]
    public async Task DocsPage_IsServed(string path)
    {
        var client = app.App.CreateClient(); // follows redirects
        var response = await client.GetAsync(path);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldContain("swagger", Case.Insensitive);
    }

    [Fact]
    public async Task OversizedBody_Returns413Problem()
    {
        var response = await app.Api.PostAsync(ApiRoutes.Register, new { username = new string('a', 70_000), email = "a@b.co", password = "password" });
        await response.ShouldBeProblem(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task UnknownRoute_Returns404Problem()
    {
        await (await app.Api.GetAsync("/api/v1/nothing-here")).ShouldBeProblem(HttpStatusCode.NotFound);
    }
}

public sealed class HealthWithRedisTests(ScaledOutApp app) : IClassFixture<ScaledOutApp>
{
    /// <summary>AspNetCore.HealthChecks.Redis 9.0.0 is built against StackExchange.Redis 2.7; it runs here on 3.x (a missing method would fail the check, and Redis would read degraded).</summary>
    [Fact]
    public async Task HealthReady_RedisUp_TheRedisPackageCheckPassesOnStackExchangeRedis3()
    {
        typeof(StackExchange.Redis.IConnectionMultiplexer).Assembly.GetName().Version!.Major.ShouldBeGreaterThanOrEqualTo(3);
        typeof(HealthChecks.Redis.RedisHealthCheck).Assembly.GetName().Version!.Major.ShouldBe(9);
        var response = await app.Api.GetAsync("/health/ready");
        await response.ShouldHaveStatus(HttpStatusCode.OK);
        var health = await response.Json();
        health["status"].Text().ShouldBe("healthy");
        health["checks"]!["redis"].Text().ShouldBe("healthy");
        health["checks"]!["database"].Text().ShouldBe("healthy");
    }
}

public sealed class HealthEmbeddedTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    [Fact]
    public async Task HealthReady_Embedded_NamesTheInProcessBus_NotRedis()
    {
        var response = await app.Api.GetAsync("/health/ready");
        await response.ShouldHaveStatus(HttpStatusCode.OK);
        var checks = (await response.Json())["checks"]!.AsObject();
        checks["in-process bus"].Text().ShouldBe("healthy");
        checks["database"].Text().ShouldBe("healthy");
        checks.ContainsKey("redis").ShouldBeFalse();
    }
}

public sealed class HealthWithoutDatabaseTests
{
    [Fact]
    public async Task HealthReady_DatabaseGone_Returns503()
    {
        var database = TestServers.CreatePostgresDatabase();
        await using var factory = new AppFactory(AppFactory.Settings(Provider.Postgres, database));
        var api = new Api(factory.CreateClient());
        (await api.GetAsync("/health/ready")).StatusCode.ShouldBe(HttpStatusCode.OK);

        TestServers.DropPostgresDatabase(database);

        var response = await api.GetAsync("/health/ready");
        response.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        (await response.Json())["status"].Text().ShouldBe("unhealthy");
        (await api.GetAsync("/health/live")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}

public sealed class LoginRateLimitTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    [Fact]
    public async Task Login_OverTheLimit_Returns429WithRetryAfter()
    {
        var limited = new Api(app.StartInstance(s =>
        {
            s["Limits:RateLimitingEnabled"] = "true";
            s["Limits:LoginAttemptsPerMinute"] = "3";
        }).CreateClient());
        var account = await limited.RegisterAsync(); // one login
        for (var i = 0; i < 2; i++)
        {
            (await limited.PostAsync(ApiRoutes.Login, new { username = account.Username, password = "wrong password" })).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }
        var response = await limited.PostAsync(ApiRoutes.Login, new { username = account.Username, password = account.Password });
        await response.ShouldBeProblem(HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter.ShouldNotBeNull();
    }
}
