using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using SliceChat.Infrastructure.Slices;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Infrastructure;

public sealed class SlicesTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    private IReadOnlyList<RouteEndpoint> ApiEndpoints => app.App.Services.GetRequiredService<EndpointDataSource>().Endpoints
        .OfType<RouteEndpoint>()
        .Where(e => e.RoutePattern.RawText!.StartsWith("/api/", StringComparison.Ordinal) || e.RoutePattern.RawText!.StartsWith("/ws/", StringComparison.Ordinal))
        .ToList();

    [Fact]
    public void EverySlice_IsMapped()
    {
        EndpointDiscovery.EndpointTypes.Count.ShouldBeGreaterThan(0);
        foreach (var type in EndpointDiscovery.EndpointTypes)
        {
            ApiEndpoints.ShouldContain(e => e.Metadata.OfType<System.Reflection.MethodInfo>().Any(m => m.DeclaringType == type),
                $"{type.FullName} mapped no endpoint");
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
    public void ValidationErrorKeys_AreSnakeCase()
    {
        SnakeCaseKeys.Convert("CurrentPassword").ShouldBe("current_password");
        SnakeCaseKeys.Convert("Items[0].ChatroomId").ShouldBe("items[0].chatroom_id");
    }
}
