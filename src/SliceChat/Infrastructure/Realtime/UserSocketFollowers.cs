using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Messaging;
using SliceChat.Infrastructure.Persistence;

namespace SliceChat.Infrastructure.Realtime;

/// <summary>
/// The instance's user sockets by user, and the one handler that checks them after an outage: once a
/// user's channel is subscribed again, the joins announced on it meanwhile may be lost, so the user's
/// memberships are read (one query per user, <c>Limits:ReconnectQueriesInFlight</c> at a time) and every
/// socket of theirs follows what it missed.
/// </summary>
public sealed partial class UserSocketFollowers : IDisposable
{
    private readonly Lock gate = new();
    private readonly Dictionary<Guid, HashSet<ConversationFollower>> byUser = [];
    private readonly IMessageBus bus;
    private readonly ChannelNames channels;
    private readonly IServiceScopeFactory scopes;
    private readonly SemaphoreSlim queries;
    private readonly ILogger<UserSocketFollowers> logger;

    public UserSocketFollowers(IMessageBus bus, ChannelNames channels, IServiceScopeFactory scopes, IOptions<LimitsOptions> limits,
        ILogger<UserSocketFollowers> logger)
    {
        this.bus = bus;
        this.channels = channels;
        this.scopes = scopes;
        this.logger = logger;
        queries = new SemaphoreSlim(limits.Value.ReconnectQueriesInFlight);
        bus.Resubscribed += OnResubscribed;
    }

    public void Add(ConversationFollower follower)
    {
        lock (gate)
        {
            if (!byUser.TryGetValue(follower.UserId, out var followers))
            {
                byUser[follower.UserId] = followers = [];
            }
            followers.Add(follower);
        }
    }

    public void Remove(ConversationFollower follower)
    {
        lock (gate)
        {
            if (byUser.TryGetValue(follower.UserId, out var followers) && followers.Remove(follower) && followers.Count == 0)
            {
                byUser.Remove(follower.UserId);
            }
        }
    }

    /// <summary>The user's memberships: the conversations and their read markers.</summary>
    public async Task<List<(Guid ChatroomId, long LastReadSeq)>> MembershipsAsync(Guid userId)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        var memberships = await db.Members.Where(m => m.UserId == userId).Select(m => new { m.ChatroomId, m.LastReadSeq }).ToListAsync();
        return memberships.Select(m => (m.ChatroomId, m.LastReadSeq)).ToList();
    }

    public void Dispose()
    {
        bus.Resubscribed -= OnResubscribed;
        queries.Dispose();
    }

    private void OnResubscribed(string channel)
    {
        if (channels.IsUser(channel, out var userId))
        {
            _ = RecheckAsync(userId);
        }
    }

    private async Task RecheckAsync(Guid userId)
    {
        await queries.WaitAsync();
        try
        {
            List<ConversationFollower> followers;
            lock (gate)
            {
                followers = byUser.TryGetValue(userId, out var found) ? [.. found] : [];
            }
            if (followers.Count == 0)
            {
                return;
            }
            var memberships = await MembershipsAsync(userId);
            foreach (var follower in followers)
            {
                follower.FollowMissing(memberships);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogRecheckFailed(logger, e, userId);
        }
        finally
        {
            queries.Release();
        }
    }

    [LoggerMessage(LogLevel.Error, "Re-checking the memberships of user {UserId}'s sockets failed")]
    private static partial void LogRecheckFailed(ILogger logger, Exception exception, Guid userId);
}
