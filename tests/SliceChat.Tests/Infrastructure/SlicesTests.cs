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
