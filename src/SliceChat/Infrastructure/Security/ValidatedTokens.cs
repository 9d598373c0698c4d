using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Infrastructure.Security;

/// <summary>
/// Access tokens this instance validated, by their exact text, until they expire (up to <c>Jwt:ValidatedTokenCacheSize</c>):
/// a client that opens many sockets or sends many requests with one token has its signature and claims checked once.
/// Validating a token allocated ~12 KB and was a seventh of a socket open's CPU; JwtBearer keeps no such cache. Only the
/// claims slices bind are kept, and the login session is still checked on every request.
/// </summary>
public sealed class ValidatedTokens(IOptions<JwtOptions> options) : IDisposable
{
    private readonly int size = options.Value.ValidatedTokenCacheSize;
    private readonly MemoryCache cache = new(new MemoryCacheOptions { SizeLimit = Math.Max(1, options.Value.ValidatedTokenCacheSize) });

    /// <summary>A validated token: its caller and its <c>exp</c> claim as the token has it.</summary>
    public sealed record Entry(CurrentUser User, string ExpiresAt, DateTimeOffset ValidTo);

    /// <summary>The token's entry while it is not expired; null when it was not validated here (or was evicted).</summary>
    public Entry? Find(string token) =>
        cache.TryGetValue(token, out Entry? entry) && entry!.ValidTo > DateTimeOffset.UtcNow ? entry : null;

    public void Add(string token, Entry entry)
    {
        if (size > 0)
        {
            cache.Set(token, entry, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpiration = entry.ValidTo });
        }
    }

    public void Dispose() => cache.Dispose();
}
