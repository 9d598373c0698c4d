using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Persistence;
using StackExchange.Redis;

namespace SliceChat.Infrastructure.Operations;

public static class OperationsServices
{
    private const string Ready = "ready";

    /// <summary>Metrics (OpenTelemetry: Prometheus <c>/metrics</c>, OTLP), JSON logs, health checks, and the drain on SIGTERM.</summary>
    public static WebApplicationBuilder AddOperations(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<AppMetrics>();
        builder.AddTelemetry();
        // With Logging:Console:FormatterName=json: one JSON object a line, with the request's scope (TraceId, SpanId, RequestPath).
        builder.Services.Configure<JsonConsoleFormatterOptions>(o =>
        {
            o.IncludeScopes = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
        });

        builder.Services.AddOptions<LimitsOptions>()
            .Validate(o => o.ShutdownDrainSeconds >= 0 && o.HealthCheckTimeoutSeconds > 0,
                "Limits:ShutdownDrainSeconds must not be negative, Limits:HealthCheckTimeoutSeconds must be positive.");
        var timeout = TimeSpan.FromSeconds(builder.Configuration.GetValue<int?>($"{LimitsOptions.Section}:{nameof(LimitsOptions.HealthCheckTimeoutSeconds)}")
            ?? new LimitsOptions().HealthCheckTimeoutSeconds);
        var checks = builder.Services.AddHealthChecks()
            .AddCheck<DrainHealthCheck>("shutdown", tags: [Ready]);
        var postgres = builder.Configuration.GetConnectionString("Postgres");
        checks = string.IsNullOrWhiteSpace(postgres)
            ? checks.AddDbContextCheck<ChatDbContext>("database", tags: [Ready])
            : checks.AddNpgSql(postgres, name: "database", tags: [Ready], timeout: timeout);
        if (string.IsNullOrWhiteSpace(builder.Configuration["Redis:Configuration"]))
        {
            checks.AddCheck("in-process bus", () => HealthCheckResult.Healthy("Single instance: events stay in this process."), tags: [Ready]);
        }
        else
        {
            // Redis down: the instance still stores messages and serves its own sockets; keep it in the load balancer.
            checks.AddRedis(sp => sp.GetRequiredService<IConnectionMultiplexer>(), name: "redis", failureStatus: HealthStatus.Degraded,
                tags: [Ready], timeout: timeout);
        }

        builder.Services.AddSingleton<Drain>();
        builder.Services.AddSingleton<IHostLifetime, DrainOnSigterm>();
        return builder;
    }

    /// <summary>
    /// The app's meter and ASP.NET Core's, the runtime's and Npgsql's, read by the Prometheus exporter (with
    /// <c>Metrics:Enabled</c>) and by OTLP (with <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, which also gets traces).
    /// </summary>
    private static void AddTelemetry(this WebApplicationBuilder builder)
    {
        var metrics = MetricsOptions.From(builder);
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        if (!metrics.Enabled && !otlp)
        {
            return; // the meter is still there for dotnet-counters
        }
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("slicechat"))
            .WithMetrics(m =>
            {
                m.AddMeter(AppMetrics.MeterName).AddAspNetCoreInstrumentation().AddRuntimeInstrumentation().AddNpgsqlInstrumentation();
                if (metrics.Enabled)
                {
                    // Every scrape reads the instruments now (the exporter's default keeps an answer for 300 ms).
                    m.AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
                }
            });
        if (otlp)
        {
            telemetry.WithTracing(t => t.AddAspNetCoreInstrumentation().AddNpgsql()).UseOtlpExporter();
        }
        if (metrics is { Enabled: true, Port: { } port })
        {
            var urls = AppUrls(builder.Configuration);
            builder.WebHost.UseUrls([.. urls, ScrapeUrl(urls[0], port)]);
        }
    }

    /// <summary>The addresses the app listens on, as ASP.NET Core reads them (<c>ASPNETCORE_URLS</c>, else <c>ASPNETCORE_HTTP_PORTS</c>, else its default).</summary>
    private static string[] AppUrls(ConfigurationManager configuration)
    {
        if (configuration[WebHostDefaults.ServerUrlsKey] is { Length: > 0 } urls)
        {
            return urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }
        if (configuration["http_ports"] is { Length: > 0 } ports)
        {
            return [.. ports.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => $"http://*:{p}")];
        }
        return ["http://localhost:5000"];
    }

    /// <summary>The scrape port on the host of the app's first address (<c>+</c>, <c>*</c> and names kept as they are).</summary>
    private static string ScrapeUrl(string appUrl, int port)
    {
        var hostStart = appUrl.IndexOf("://", StringComparison.Ordinal) + 3;
        var hostEnd = appUrl.LastIndexOf(':');
        var host = hostEnd > hostStart && !appUrl[hostStart..hostEnd].EndsWith('[') ? appUrl[hostStart..hostEnd] : appUrl[hostStart..].TrimEnd('/');
        return $"http://{host}:{port}";
    }

    /// <summary>Health endpoints and, with <c>Metrics:Enabled</c>, <c>/metrics</c> (only on <c>Metrics:Port</c> when it is set).</summary>
    public static WebApplication MapOperations(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new() { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new()
        {
            Predicate = check => check.Tags.Contains(Ready),
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status200OK,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
            ResponseWriter = WriteJsonAsync,
        }).AllowAnonymous();
        var metrics = app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value;
        if (metrics.Enabled)
        {
            var scrape = app.MapPrometheusScrapingEndpoint().AllowAnonymous();
            if (metrics.Port is { } port)
            {
                scrape.RequireHost($"*:{port}");
            }
        }
        return app;
    }

    private static Task WriteJsonAsync(HttpContext context, HealthReport report) =>
        context.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString().ToLowerInvariant(),
            checks = report.Entries.ToDictionary(e => e.Key, e => e.Value.Status.ToString().ToLowerInvariant()),
        });
}
