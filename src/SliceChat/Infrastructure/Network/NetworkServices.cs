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

    /// <summary>
    /// Kestrel's socket transport runs the app's continuations and its own sends on the thread that completed
    /// the I/O instead of queueing each to the thread pool (<c>UnsafePreferInlineScheduling</c>): a fan-out to a
    /// thousand sockets then hands each frame to its socket without a thread hop per socket. Safe here: the app
    /// awaits its I/O, and its CPU-heavy work (password hashing, image decoding) runs where it ran before.
    /// </summary>
    public bool InlineScheduling { get; set; } = true;
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
        if (builder.Configuration.GetValue($"{NetworkOptions.Section}:{nameof(NetworkOptions.InlineScheduling)}", new NetworkOptions().InlineScheduling))
        {
            builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = true);
        }
        return builder;
    }

    /// <summary>First in the pipeline: everything after sees the forwarded client address.</summary>
    public static WebApplication UseNetwork(this WebApplication app)
    {
        app.UseForwardedHeaders();
        return app;
    }
}
