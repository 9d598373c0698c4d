using SliceChat.Features;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using SliceChat.Infrastructure.Security;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Infrastructure;

public sealed class SigningKeyTests
{
    [Fact]
    public void OutsideDevelopment_MissingKey_RefusesToStart()
    {
        var error = Should.Throw<InvalidOperationException>(() => SigningKey.Resolve(null, isDevelopment: false, Path.GetTempPath()));
        error.Message.ShouldContain("Jwt:SigningKey");
    }

    [Fact]
    public void ShortKey_RefusesToStart()
    {
        Should.Throw<InvalidOperationException>(() => SigningKey.Resolve(new string('k', 31), isDevelopment: true, Path.GetTempPath()));
    }

    [Fact]
    public void Development_GeneratedKey_SurvivesRestart()
    {
        var folder = Directory.CreateTempSubdirectory("slicechat-key-").FullName;
        var first = SigningKey.Resolve(null, isDevelopment: true, folder);
        var second = SigningKey.Resolve(null, isDevelopment: true, folder);
        second.Key.Key.ShouldBe(first.Key.Key);
        first.Key.Key.Length.ShouldBeGreaterThanOrEqualTo(32);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Development_GeneratedKeyFile_IsReadableByItsOwnerOnly()
    {
        var folder = Directory.CreateTempSubdirectory("slicechat-key-").FullName;
        SigningKey.Resolve(null, isDevelopment: true, folder);
        var path = Path.Combine(folder, "jwt-signing-key");
        File.GetUnixFileMode(path).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        SigningKey.Resolve(null, isDevelopment: true, folder);
        File.GetUnixFileMode(path).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task App_ProductionWithoutKey_FailsAtStartup()
    {
        var settings = AppFactory.Settings(Provider.Sqlite, Directory.CreateTempSubdirectory().FullName);
        settings["Jwt:SigningKey"] = null;
        await using var factory = new ProductionFactory(settings);
        Should.Throw<InvalidOperationException>(() => factory.Server).Message.ShouldContain("Jwt:SigningKey");
    }

    private sealed class ProductionFactory(IReadOnlyDictionary<string, string?> settings) : Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            builder.UseEnvironment("Production");
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
        }
    }
}

public sealed class RevocationAcrossInstancesTests(ScaledOutApp app) : IClassFixture<ScaledOutApp>
{
    [Fact]
    public async Task Logout_OnA_RefusesTokenOnBAtOnce()
    {
        var b = new Api(app.StartInstance().CreateClient());
        var account = await app.Api.RegisterAsync();
        // B has seen the session as active, so only the bus can tell it otherwise within the cache time.
        (await b.As(account).GetAsync(ApiRoutes.Me)).StatusCode.ShouldBe(HttpStatusCode.OK);

        (await app.Api.As(account).PostAsync(ApiRoutes.Logout)).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        var deadline = DateTime.UtcNow.AddSeconds(2);
        HttpStatusCode status;
        do
        {
            status = (await b.As(account).GetAsync(ApiRoutes.Me)).StatusCode;
        }
        while (status == HttpStatusCode.OK && DateTime.UtcNow < deadline);
        status.ShouldBe(HttpStatusCode.Unauthorized);
    }
}

public sealed class NginxConfigurationTests
{
    [Fact]
    public void AccessLog_NeverWritesQueryStrings()
    {
        var repository = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(repository, "SliceChat.sln")))
        {
            repository = Path.GetDirectoryName(repository) ?? throw new InvalidOperationException("No SliceChat.sln above the test binaries.");
        }
        var config = File.ReadAllText(Path.Combine(repository, "deploy", "nginx.conf"));
        var accessLogs = System.Text.RegularExpressions.Regex.Matches(config, @"^\s*access_log\s+\S+\s+(\w+);", System.Text.RegularExpressions.RegexOptions.Multiline);
        accessLogs.Count.ShouldBeGreaterThan(0);
        foreach (System.Text.RegularExpressions.Match log in accessLogs)
        {
            var format = System.Text.RegularExpressions.Regex.Match(config, @"log_format\s+" + log.Groups[1].Value + @"\s+([^;]+);");
            format.Success.ShouldBeTrue($"log_format {log.Groups[1].Value} is defined");
            format.Groups[1].Value.ShouldNotContain("$request ");
            format.Groups[1].Value.ShouldNotContain("$request\"");
            format.Groups[1].Value.ShouldNotContain("$request_uri");
            format.Groups[1].Value.ShouldNotContain("$args");
            format.Groups[1].Value.ShouldNotContain("$query_string");
            format.Groups[1].Value.ShouldContain("$uri");
        }
    }
}
