using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Messaging;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Realtime;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Infrastructure.Presence;

/// <summary>
/// Spreads presence changes. The instance whose <see cref="SocketSlots"/> decided a change looks up the user's direct
/// partners once and publishes the change with them on the one presence channel; every instance hands the
/// <c>presence</c> frame (serialised once) to its own <c>/ws/chat</c> sockets of those partners and to its sockets
/// that subscribed to the user, each socket once. Changes of one user decided by different instances (a socket closing
/// on one as another opens on the next) may reach an instance out of order: it drops a change older than the last it
/// handed on for that user (their times are Redis' clock).
/// </summary>
public sealed partial class PresenceHub(
    SocketSlots slots,
    IMessageBus bus,
    ChannelNames names,
    IServiceScopeFactory scopes,
    IOptions<PresenceOptions> options,
    ILogger<PresenceHub> logger) : IHostedService, IAsyncDisposable
{
    public const string EventType = "presence";

    private readonly Lock gate = new();
    private readonly Dictionary<Guid, HashSet<SocketConnection>> socketsOfUser = [];
    private readonly Dictionary<Guid, HashSet<SocketConnection>> subscribersOfUser = [];
    private readonly Dictionary<SocketConnection, HashSet<Guid>> subscriptionsOfSocket = [];
    private readonly Dictionary<Guid, DateTimeOffset> latestChange = [];
    private int changesSincePrune;
    private readonly Channel<PresenceChange> changes = Channel.CreateUnbounded<PresenceChange>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly CancellationTokenSource stopping = new();
    private Task[] publishers = [];
    private IAsyncDisposable? subscription;

    public int MaxSubscriptions => options.Value.MaxIds;

    /// <summary>A user socket that receives its user's partners' presence from now on, until <see cref="Detach"/>.</summary>
    public void Attach(SocketConnection socket)
    {
        lock (gate)
        {
            Add(socketsOfUser, socket.UserId, socket);
            subscriptionsOfSocket[socket] = [];
        }
    }

    public void Detach(SocketConnection socket)
    {
        lock (gate)
        {
            Remove(socketsOfUser, socket.UserId, socket);
            if (subscriptionsOfSocket.Remove(socket, out var watched))
            {
                foreach (var userId in watched)
                {
                    Remove(subscribersOfUser, userId, socket);
                }
            }
        }
    }

    /// <summary>Follows <paramref name="userIds"/> (checked by the caller to share a conversation) up to <see cref="PresenceOptions.MaxIds"/>.</summary>
    /// <returns>The ids left out because the socket reached the cap.</returns>
    public List<Guid> Subscribe(SocketConnection socket, IEnumerable<Guid> userIds)
    {
        var refused = new List<Guid>();
        lock (gate)
        {
            if (!subscriptionsOfSocket.TryGetValue(socket, out var watched))
            {
                return refused;
            }
            foreach (var userId in userIds)
            {
                if (watched.Contains(userId))
                {
                    continue;
                }
                if (watched.Count >= MaxSubscriptions)
                {
                    refused.Add(userId);
                    continue;
                }
                watched.Add(userId);
                Add(subscribersOfUser, userId, socket);
            }
        }
        return refused;
    }

    public void Unsubscribe(SocketConnection socket, IEnumerable<Guid> userIds)
    {
        lock (gate)
        {
            if (!subscriptionsOfSocket.TryGetValue(socket, out var watched))
            {
                return;
            }
            foreach (var userId in userIds.Where(watched.Remove))
            {
                Remove(subscribersOfUser, userId, socket);
            }
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        subscription = await bus.SubscribeAsync(names.Presence, OnNews);
        publishers = [.. Enumerable.Range(0, options.Value.LookupsInFlight).Select(_ => Task.Run(PublishChangesAsync))];
        slots.Changed += OnChanged;
    }

    /// <summary>Nothing: the sockets that close while the app stops still make their users go offline, until disposal.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs twice (the container disposes the singleton and the hosted service), so it only cancels <see cref="stopping"/>, never disposes it.</summary>
    public async ValueTask DisposeAsync()
    {
        slots.Changed -= OnChanged;
        await stopping.CancelAsync();
        await Task.WhenAll(publishers);
        if (subscription is not null)
        {
            await subscription.DisposeAsync();
        }
    }

    private void OnChanged(PresenceChange change) => changes.Writer.TryWrite(change);

    /// <summary>
    /// One of <see cref="PresenceOptions.LookupsInFlight"/> loops: takes the changes waiting (up to
    /// <see cref="PresenceOptions.LookupBatch"/>), looks up all their users' direct partners in one query and publishes
    /// each change with its user's. A burst (a thousand sockets opening) costs a few queries, not one per user.
    /// </summary>
    private async Task PublishChangesAsync()
    {
        var batch = new List<PresenceChange>();
        try
        {
            while (await changes.Reader.WaitToReadAsync(stopping.Token))
            {
                while (batch.Count < options.Value.LookupBatch && changes.Reader.TryRead(out var change))
                {
                    batch.Add(change);
                }
                if (batch.Count == 0)
                {
                    continue; // every loop wakes for a change, and another one took it
                }
                await PublishAsync(batch);
                batch.Clear();
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException && stopping.IsCancellationRequested)
        {
            // The app is gone: a lookup under way was cancelled, or met the container already disposed.
        }
    }

    private async Task PublishAsync(List<PresenceChange> batch)
    {
        ILookup<Guid, Guid>? partners = null;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            partners = await scope.ServiceProvider.GetRequiredService<ChatDbContext>()
                .DirectPartnersAsync([.. batch.Select(c => c.UserId).Distinct()], stopping.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException && !stopping.IsCancellationRequested)
        {
            // Subscribers still hear of them; partners see the status in their conversation list.
            LogPartnersFailed(logger, e.Message, batch.Count);
        }
        foreach (var change in batch)
        {
            var news = new PresenceNews(change.UserId, change.Online ? "online" : "offline", change.At, [.. partners?[change.UserId] ?? []]);
            try
            {
                await bus.PublishAsync(names.Presence, JsonSerializer.SerializeToUtf8Bytes(news, SliceServices.JsonOptions));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogPublishFailed(logger, e.Message, change.UserId);
            }
        }
    }

    private void OnNews(ReadOnlyMemory<byte> message)
    {
        var news = JsonSerializer.Deserialize<PresenceNews>(message.Span, SliceServices.JsonOptions);
        if (news is null)
        {
            return;
        }
        var targets = new HashSet<SocketConnection>();
        lock (gate)
        {
            if (latestChange.TryGetValue(news.UserId, out var latest) && latest > news.LastSeenAt)
            {
                return; // overtaken by a later change
            }
            latestChange[news.UserId] = news.LastSeenAt;
            PruneChanges(news.LastSeenAt);
            foreach (var partner in news.PartnerIds)
            {
                if (socketsOfUser.TryGetValue(partner, out var sockets))
                {
                    targets.UnionWith(sockets);
                }
            }
            if (subscribersOfUser.TryGetValue(news.UserId, out var subscribers))
            {
                targets.UnionWith(subscribers);
            }
        }
        if (targets.Count == 0)
        {
            return;
        }
        var frame = ChatEvents.Frame(EventType, new PresenceEvent(news.UserId, news.Status, news.LastSeenAt));
        foreach (var socket in targets)
        {
            socket.Enqueue(frame);
        }
    }

    /// <summary>Now and then, forgets changes older than any reordering: a minute.</summary>
    private void PruneChanges(DateTimeOffset now)
    {
        if (++changesSincePrune < 1024)
        {
            return;
        }
        changesSincePrune = 0;
        foreach (var old in latestChange.Where(c => c.Value < now - TimeSpan.FromMinutes(1)).Select(c => c.Key).ToList())
        {
            latestChange.Remove(old);
        }
    }

    private static void Add(Dictionary<Guid, HashSet<SocketConnection>> index, Guid userId, SocketConnection socket)
    {
        if (!index.TryGetValue(userId, out var sockets))
        {
            index[userId] = sockets = [];
        }
        sockets.Add(socket);
    }

    private static void Remove(Dictionary<Guid, HashSet<SocketConnection>> index, Guid userId, SocketConnection socket)
    {
        if (index.TryGetValue(userId, out var sockets) && sockets.Remove(socket) && sockets.Count == 0)
        {
            index.Remove(userId);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Publishing the presence change of user {UserId} failed ({Reason})")]
    private static partial void LogPublishFailed(ILogger logger, string reason, Guid userId);

    [LoggerMessage(LogLevel.Warning, "Looking up the direct partners of {Count} users for their presence changes failed ({Reason}); only subscribers hear of them")]
    private static partial void LogPartnersFailed(ILogger logger, string reason, int count);
}

/// <summary>The <c>presence</c> event: <c>status</c> is "online" or "offline".</summary>
public sealed record PresenceEvent(Guid UserId, string Status, DateTimeOffset? LastSeenAt)
{
    public static PresenceEvent From(UserPresence presence) => new(presence.UserId, presence.Online ? "online" : "offline", presence.LastSeenAt);
}

/// <summary>Internal, on the presence channel: a change and the partners to tell. Never sent to clients.</summary>
public sealed record PresenceNews(Guid UserId, string Status, DateTimeOffset LastSeenAt, List<Guid> PartnerIds);

public static class PresenceServices
{
    public static WebApplicationBuilder AddPresence(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<PresenceOptions>().Bind(builder.Configuration.GetSection(PresenceOptions.Section))
            .Validate(o => o.TimeoutSeconds >= 3 && o.MaxIds > 0 && o.LookupsInFlight > 0 && o.LookupBatch > 0,
                "Presence:TimeoutSeconds must be at least 3, Presence:MaxIds, Presence:LookupsInFlight and Presence:LookupBatch positive.")
            .ValidateOnStart();
        builder.Services.AddSingleton<PresenceHub>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PresenceHub>());
        return builder;
    }
}
