using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using SliceChat.Infrastructure.Network;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Infrastructure.Limits;

/// <summary>
/// ASP.NET Core's rate limiter on REST routes, over <see cref="RateLimits"/> (so the buckets are those sockets use,
/// shared through Redis). A slice opts in with <c>Options(b => b.RequireRateLimiting(RateLimitPolicies.Writes))</c>;
/// over the limit it answers 429 problem details with <c>Retry-After</c>.
/// </summary>
public static class RateLimitPolicies
{
    /// <summary>Per client address: <c>Limits:RegistrationsPerMinute</c>.</summary>
    public const string Registrations = "registrations";

    /// <summary>Per client address: <c>Limits:LoginsPerAddressPerMinute</c> (the per-account limit is the login slice's).</summary>
    public const string Logins = "logins";

    /// <summary>Per signed-in user: <c>Limits:WritesPerMinute</c>.</summary>
    public const string Writes = "writes";

    internal static IServiceCollection AddRateLimitPolicies(this IServiceCollection services) => services.AddRateLimiter(o =>
    {
        o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        o.OnRejected = (rejected, _) =>
        {
            var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
            return new ValueTask(Problems.TooManyRequests(rejected.HttpContext, retryAfter).ExecuteAsync(rejected.HttpContext));
        };
        o.AddPolicy(Registrations, http => Partition(http, l => l.Registrations, ClientAddress.Of(http)));
        o.AddPolicy(Logins, http => Partition(http, l => l.LoginsPerAddress, ClientAddress.Of(http)));
        o.AddPolicy(Writes, http => Partition(http, l => l.Writes, http.User.FindFirst(Claims.UserId)?.Value));
    });

    /// <summary>The bucket of <paramref name="key"/> (no limit without a key, or while limits are off).</summary>
    private static RateLimitPartition<string> Partition(HttpContext http, Func<RateLimits, RateLimitRule> rule, string? key)
    {
        var limits = http.RequestServices.GetRequiredService<RateLimits>();
        return limits.Enabled && key is not null
            ? RateLimitPartition.Get(key, k => new SharedLimiter(limits, rule(limits), k))
            : RateLimitPartition.GetNoLimiter("");
    }

    /// <summary>
    /// One partition's view of a <see cref="RateLimits"/> bucket. The bucket may live in Redis, so it answers only
    /// asynchronously: <see cref="AttemptAcquireCore"/> never grants, and the middleware then awaits
    /// <see cref="AcquireAsyncCore"/>. It holds nothing, and reports itself idle so the middleware drops it.
    /// </summary>
    private sealed class SharedLimiter(RateLimits limits, RateLimitRule rule, string key) : RateLimiter
    {
        private long lastUsed = Environment.TickCount64;

        public override TimeSpan? IdleDuration => TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref lastUsed));

        public override RateLimiterStatistics? GetStatistics() => null;

        protected override RateLimitLease AttemptAcquireCore(int permitCount) => Lease.Pending;

        protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
        {
            Volatile.Write(ref lastUsed, Environment.TickCount64);
            return permitCount == 0 || await limits.TryAcquireAsync(rule, key) is not { } retryAfter ? Lease.Granted : new Lease(false, retryAfter);
        }
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Granted = new(true, null);
        public static readonly Lease Pending = new(false, null);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.RetryAfter.Name ? retryAfter : null;
            return metadata is not null;
        }
    }
}

public static class RateLimitedEndpoints
{
    /// <summary>Limits the route by <paramref name="policy"/> (one of <see cref="RateLimitPolicies"/>), and says so in the OpenAPI document.</summary>
    public static RouteHandlerBuilder RateLimited(this RouteHandlerBuilder builder, string policy) =>
        builder.RequireRateLimiting(policy).ProducesProblem(StatusCodes.Status429TooManyRequests);
}
