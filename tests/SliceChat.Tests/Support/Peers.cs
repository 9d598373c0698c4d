using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace SliceChat.Tests.Support;

/// <summary>
/// Clients at chosen addresses on the in-memory test server (whose connections have no remote address): a test
/// header sets the connection's remote address before the app's pipeline, as a TCP peer's address would be.
/// </summary>
public static class Peers
{
    public const string Header = "X-Test-Peer";

    /// <summary>For <see cref="AppFixture.StartInstance"/>'s <c>configureHost</c>.</summary>
    public static void Enable(IWebHostBuilder host) => host.ConfigureServices(services => services.AddSingleton<IStartupFilter, PeerFilter>());

    /// <summary>A client whose connections come from <paramref name="peer"/>, sending <c>X-Forwarded-For</c> when given.</summary>
    public static Api From(AppFactory app, string peer, string? forwardedFor = null)
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Add(Header, peer);
        if (forwardedFor is not null)
        {
            client.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        }
        return new Api(client);
    }

    private sealed class PeerFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, following) =>
            {
                if (context.Request.Headers[Header] is [{ } peer])
                {
                    context.Connection.RemoteIpAddress = IPAddress.Parse(peer);
                }
                return following(context);
            });
            next(app);
        };
    }
}
