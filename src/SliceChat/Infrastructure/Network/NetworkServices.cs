using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace SliceChat.Infrastructure.Network;

/// <summary>Settings under <c>Network:</c>.</summary>
public sealed class NetworkOptions
{
    public const string Section = "Network";

    /// <summary>
    /// Addresses of the reverse proxies (load balancers) in front of the app. <c>X-Forwarded-For</c> and
    /// <c>X-Forwarded-Proto</c> are honoured only on connections from one of them; empty (the default) trusts no
    /// proxy, loopback included, and the client address is the connection's.
    /// </summary>
    public string[] KnownProxies { get; set; } = [];
}

/// <summary>The client address rate limits key on: the connection's, or what a known proxy forwarded.</summary>
public static class ClientAddress
{
    public static string Of(HttpContext context) => context.Connection.RemoteIpAddress switch
    {
        null => "unknown",
        { IsIPv4MappedToIPv6: true } mapped => mapped.MapToIPv4().ToString(),
        var address => address.ToString(),
    };
}

public static class NetworkServices
{
    public static WebApplicationBuilder AddNetwork(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<NetworkOptions>().Bind(builder.Configuration.GetSection(NetworkOptions.Section))
            .Validate(o => o.KnownProxies.All(p => IPAddress.TryParse(p, out _)), "Network:KnownProxies must be IP addresses.")
            .ValidateOnStart();
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<Microsoft.Extensions.Options.IOptions<NetworkOptions>>((o, network) =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // The defaults trust loopback: a proxy is trusted only when listed.
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var proxy in network.Value.KnownProxies)
            {
                if (IPAddress.TryParse(proxy, out var address))
                {
                    o.KnownProxies.Add(address);
                }
            }
            // One hop: the address the (last) known proxy saw, never what the client wrote before it.
            o.ForwardLimit = 1;
        });
        return builder;
    }

    /// <summary>First in the pipeline: everything after sees the forwarded client address.</summary>
    public static WebApplication UseNetwork(this WebApplication app)
    {
        app.UseForwardedHeaders();
        return app;
    }
}
