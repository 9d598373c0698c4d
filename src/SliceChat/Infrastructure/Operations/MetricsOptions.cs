namespace SliceChat.Infrastructure.Operations;

/// <summary>Settings under <c>Metrics:</c>.</summary>
public sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>Serve <c>GET /metrics</c> (Prometheus text). Default: true in Development, false elsewhere.</summary>
    public bool Enabled { get; set; }

    /// <summary>When set, <c>/metrics</c> is answered only on this port (the app listens on it too), so a load balancer in front of the app's own port never exposes it.</summary>
    public int? Port { get; set; }

    internal static MetricsOptions From(WebApplicationBuilder builder)
    {
        var options = new MetricsOptions { Enabled = builder.Environment.IsDevelopment() };
        builder.Configuration.GetSection(Section).Bind(options);
        builder.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(options));
        return options;
    }
}
