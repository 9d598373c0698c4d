namespace SliceChat.Infrastructure.Messaging;

/// <summary>
/// Publish/subscribe between app instances on literal channel names (<see cref="ChannelNames"/>).
/// A publish reaches the publishing instance's own subscribers at once, before any transport round
/// trip, and every other instance's subscribers through the transport; never twice.
/// </summary>
public interface IMessageBus
{
    /// <param name="ephemeral">Not worth sending late (typing): while the link is down it is dropped, not kept for the link's return.</param>
    Task PublishAsync(string channel, ReadOnlyMemory<byte> message, bool ephemeral = false);

    /// <summary>
    /// Handlers run on the bus's receive path: they must only hand the message on (e.g. enqueue it).
    /// Another instance's messages on a channel reach them one at a time, in the order it published them.
    /// </summary>
    Task<IAsyncDisposable> SubscribeAsync(string channel, Action<ReadOnlyMemory<byte>> handler);

    /// <summary>
    /// A channel's subscription is live again after it was not (the transport link dropped and came back,
    /// or a subscribe failed and its retry succeeded): messages published on it meanwhile may have been
    /// lost. Raised once per channel and recovery, on the bus's path: handlers only hand the news on.
    /// </summary>
    event Action<string>? Resubscribed;

    bool IsConnected { get; }
}
