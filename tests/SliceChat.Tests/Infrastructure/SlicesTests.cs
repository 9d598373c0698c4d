using System.Net;
using FastEndpoints;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using SliceChat.Features;
using SliceChat.Infrastructure.Slices;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Infrastructure;

public sealed class SlicesTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    /// <summary>The contract's anonymous routes; every other one needs a token.</summary>
    private static readonly string[] AnonymousRoutes = [ApiRoutes.Register, ApiRoutes.Signup, ApiRoutes.Login, ApiRoutes.Refresh];

    private IReadOnlyList<RouteEndpoint> ApiEndpoints => app.App.Services.GetRequiredService<EndpointDataSource>().Endpoints
        .OfType<RouteEndpoint>()
        .Where(e => e.RoutePattern.RawText!.StartsWith("/api/", StringComparison.Ordinal) || e.RoutePattern.RawText!.StartsWith("/ws/", StringComparison.Ordinal))
        .ToList();

    private static IEnumerable<Type> EndpointTypes => typeof(ApiRoutes).Assembly.GetTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && t.IsAssignableTo(typeof(BaseEndpoint)));

    [Fact]
    public void EverySlice_IsMapped()
    {
        EndpointTypes.Count().ShouldBeGreaterThan(20);
        foreach (var type in EndpointTypes)
        {
            ApiEndpoints.ShouldContain(e => e.Metadata.GetMetadata<EndpointDefinition>()!.EndpointType == type, $"{type.FullName} mapped no endpoint");
        }
    }

    [Fact]
    public void EveryEndpoint_IsNamedUniquely()
    {
        var names = ApiEndpoints.Select(e => e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName).ToList();
        names.ShouldAllBe(n => !string.IsNullOrEmpty(n));
        names.ShouldBeUnique();
    }

    [Fact]
    public void EveryRouteAndMethod_IsUnique()
    {
        var routes = ApiEndpoints.SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"]).Select(m => $"{m} {e.RoutePattern.RawText}")).ToList();
        routes.ShouldBeUnique();
    }

    [Fact]
    public void EverySlice_DeclaresItsRouteFromApiRoutes()
    {
        var declared = typeof(ApiRoutes).GetFields().Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!).ToHashSet();
        ApiEndpoints.ShouldAllBe(e => declared.Contains(e.RoutePattern.RawText!));
    }

    [Fact]
    public async Task EveryRoute_WithoutToken_Returns401_ExceptTheAnonymousOnes()
    {
        var client = app.App.CreateClient();
        var checkedRoutes = 0;
        foreach (var endpoint in ApiEndpoints)
        {
            var route = endpoint.RoutePattern.RawText!;
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods)
            {
                var path = ApiRoutes.Fill(route, endpoint.RoutePattern.Parameters.Select(_ => (object)Guid.CreateVersion7()).ToArray());
                using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "GET" ? null : new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };
                var response = await client.SendAsync(request);
                if (AnonymousRoutes.Contains(route))
                {
                    response.StatusCode.ShouldNotBe(HttpStatusCode.Unauthorized, $"{method} {route} is anonymous");
                }
                else
                {
                    await response.ShouldBeProblem(HttpStatusCode.Unauthorized);
                }
                checkedRoutes++;
            }
        }
        checkedRoutes.ShouldBeGreaterThan(25);
    }

    [Fact]
    public async Task HealthAndDocs_WithoutToken_Answer()
    {
        var client = app.App.CreateClient();
        foreach (var path in new[] { "/health/live", "/health/ready", "/openapi/v1.json", SliceServices.DocsPath })
        {
            (await client.GetAsync(path)).StatusCode.ShouldBe(HttpStatusCode.OK, path);
        }
    }

    [Fact]
    public async Task QueryString_NeverOverridesARouteValue()
    {
        var api = app.Api;
        var owner = await api.RegisterAsync();
        var room = await api.CreateRoomAsync(owner);
        var other = await api.CreateRoomAsync(owner);
        var sent = await api.As(owner).PostAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room) + $"?id={other}", new { content = "here" });
        await sent.ShouldHaveStatus(HttpStatusCode.Created);
        (await sent.Json())["chatroom_id"].Text().ShouldBe(room.ToString());
        var fetched = await (await api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.Chatroom, room) + $"?id={other}")).Json();
        fetched["id"].Text().ShouldBe(room.ToString());
    }

    [Fact]
    public async Task Get_WithAJsonContentTypeAndNoBody_Answers()
    {
        var owner = await app.Api.RegisterAsync();
        var room = await app.Api.CreateRoomAsync(owner);
        using var request = new HttpRequestMessage(HttpMethod.Get, ApiRoutes.Fill(ApiRoutes.Chatroom, room)) { Content = new ByteArrayContent([]) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", owner.AccessToken);
        (await app.Api.Http.SendAsync(request)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private async Task<HttpResponseMessage> PostRawAsync(string path, string token, byte[] body, string? contentType)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        if (contentType is not null)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return await app.Api.Http.SendAsync(request);
    }

    [Fact]
    public async Task Body_WithAnUnknownCharset_Returns415Problem()
    {
        var owner = await app.Api.RegisterAsync();
        var response = await PostRawAsync(ApiRoutes.Chatrooms, owner.AccessToken, """{"name":"general"}"""u8.ToArray(), "application/json; charset=nonsense");
        await response.ShouldBeProblem(HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Post_WithoutContentType_Returns415Problem()
    {
        var owner = await app.Api.RegisterAsync();
        var response = await PostRawAsync(ApiRoutes.Chatrooms, owner.AccessToken, [], contentType: null);
        await response.ShouldBeProblem(HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Body_NotUtf8_InAFieldNobodyReads_Returns400AndStoresNothing()
    {
        var owner = await app.Api.RegisterAsync();
        byte[] body = [.. """{"na"""u8, 0xFF, .. """me":1,"name":"general"}"""u8];
        var response = await PostRawAsync(ApiRoutes.Chatrooms, owner.AccessToken, body, "application/json");
        await response.ShouldBeValidationProblem(Problems.BodyField);
        var rooms = await (await app.Api.As(owner).GetAsync(ApiRoutes.Chatrooms)).Json();
        rooms["items"]!.AsArray().ShouldBeEmpty();
    }

    [Fact]
    public async Task Body_OfTheWrongJsonType_NamesTheFieldInOurWords()
    {
        var owner = await app.Api.RegisterAsync();
        var response = await app.Api.As(owner).PostAsync(ApiRoutes.Chatrooms, new { name = "general", is_private = "yes" });
        var problem = await response.ShouldBeValidationProblem("is_private");
        problem["errors"]!["is_private"]![0].Text().ShouldBe("is_private is not of the expected JSON type.");
    }

    [Fact]
    public async Task QueryValue_ThatDoesNotParse_SaysWhatItMustBe()
    {
        var owner = await app.Api.RegisterAsync();
        var problem = await (await app.Api.As(owner).GetAsync($"{ApiRoutes.Chatrooms}?limit=abc&before=zz")).ShouldBeValidationProblem("limit", "before");
        problem["errors"]!["limit"]![0].Text().ShouldBe("limit must be an integer.");
        problem["errors"]!["before"]![0].Text().ShouldBe("before must be a UUID.");
    }

    [Fact]
    public void ValidationErrorKeys_AreSnakeCase()
    {
        Problems.SnakeCase("CurrentPassword").ShouldBe("current_password");
        Problems.SnakeCase("Items[0].ChatroomId").ShouldBe("items[0].chatroom_id");
    }

    [Fact]
    public void Fill_PutsValuesInOrder_AndRefusesAWrongCount()
    {
        var room = Guid.CreateVersion7();
        ApiRoutes.Fill(ApiRoutes.Member, room, "me").ShouldBe(ApiRoutes.Fill(ApiRoutes.Member, room, "me"));
        Should.Throw<ArgumentException>(() => ApiRoutes.Fill(ApiRoutes.Member, room));
        Should.Throw<ArgumentException>(() => ApiRoutes.Fill(ApiRoutes.Chatroom, room, room));
    }
}
