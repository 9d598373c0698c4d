using System.Net;
using System.Text.RegularExpressions;
using SliceChat.Features;
using SliceChat.Infrastructure.WebClient;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Infrastructure;

/// <summary>The web client's files at <c>/</c> on the embedded default, beside the API's own routes.</summary>
public sealed partial class WebClientTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    [Fact]
    public async Task Root_ServesTheClient_WithAContentSecurityPolicy_AndNoInlineScriptOrStyle()
    {
        var response = await app.App.CreateClient().GetAsync("/");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        response.Headers.GetValues("Content-Security-Policy").Single().ShouldBe(WebClientServices.ContentSecurityPolicy);
        WebClientServices.ContentSecurityPolicy.ShouldContain("script-src 'self';");
        WebClientServices.ContentSecurityPolicy.ShouldNotContain("unsafe-inline");
        response.Headers.GetValues("X-Content-Type-Options").Single().ShouldBe("nosniff");
        var html = await response.Content.ReadAsStringAsync();
        html.ShouldContain("<script type=\"module\" src=\"js/app.js\"></script>");
        ScriptTag().Matches(html).ShouldAllBe(tag => tag.Value.Contains(" src=", StringComparison.Ordinal));
        html.ShouldNotContain("<style", Case.Insensitive);
        html.ShouldNotContain(" style=", Case.Insensitive);
        InlineHandler().IsMatch(html).ShouldBeFalse();
    }

    [Fact]
    public async Task EveryModuleTheClientImports_IsServedAsJavaScript()
    {
        var client = app.App.CreateClient();
        var pending = new Queue<string>(["js/app.js"]);
        var seen = new HashSet<string>();
        while (pending.TryDequeue(out var path))
        {
            if (!seen.Add(path))
            {
                continue;
            }
            var response = await client.GetAsync("/" + path);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, path);
            response.Content.Headers.ContentType!.MediaType.ShouldBe("text/javascript", path);
            response.Headers.Contains("Content-Security-Policy").ShouldBeTrue(path);
            foreach (Match import in ImportFrom().Matches(await response.Content.ReadAsStringAsync()))
            {
                pending.Enqueue("js/" + import.Groups[1].Value);
            }
        }
        seen.Count.ShouldBeGreaterThan(3);
        (await client.GetAsync("/app.css")).Content.Headers.ContentType!.MediaType.ShouldBe("text/css");
    }

    [Theory]
    [InlineData("/api/v1/nothing-here")]
    [InlineData("/nothing-here")]
    [InlineData("/js/nothing-here.js")]
    public async Task PathsWithoutAFile_StillAnswerProblemDetails(string path)
    {
        await (await app.Api.GetAsync(path)).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ApiRoutes_AreNotShadowed()
    {
        await (await app.Api.GetAsync(ApiRoutes.Me)).ShouldBeProblem(HttpStatusCode.Unauthorized);
        (await app.Api.GetAsync("/openapi/v1.json")).Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        (await app.Api.GetAsync("/health/live")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [GeneratedRegex(@"<script\b[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptTag();

    [GeneratedRegex(@"\son[a-z]+\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex InlineHandler();

    [GeneratedRegex(@"from '\./([a-z]+\.js)'")]
    private static partial Regex ImportFrom();
}
