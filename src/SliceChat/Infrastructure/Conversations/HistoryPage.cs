using FastEndpoints;
using FluentValidation;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Infrastructure.Conversations;

/// <summary>
/// A REST history page's query string: no cursor = the newest <c>limit</c>; <c>before_seq</c> = older;
/// <c>after_seq</c> = newer (catch-up). The page itself comes from <see cref="MessageHistory"/>.
/// </summary>
public abstract record HistoryPageRequest : CallerRequest
{
    public const int DefaultLimit = 50, MaxLimit = 200;

    [QueryParam]
    public long? BeforeSeq { get; init; }
    [QueryParam]
    public long? AfterSeq { get; init; }
    [QueryParam]
    public int? Limit { get; init; }

    public Task<MessagePage> LoadAsync(MessageHistory history, Guid chatroomId, CancellationToken ct) =>
        history.PageAsync(chatroomId, BeforeSeq, AfterSeq, Limit ?? DefaultLimit, ct);

    /// <summary>The page while the caller is a member; empty otherwise (<see cref="MessageHistory.PageAsMemberAsync"/>).</summary>
    public Task<MessagePage> LoadAsMemberAsync(MessageHistory history, Guid chatroomId, CancellationToken ct) =>
        history.PageAsMemberAsync(chatroomId, CallerId, BeforeSeq, AfterSeq, Limit ?? DefaultLimit, ct);
}

/// <summary>The rules of a history page's cursors, for every slice that pages a conversation.</summary>
public abstract class HistoryPageValidator<TRequest> : Validator<TRequest> where TRequest : HistoryPageRequest
{
    protected HistoryPageValidator()
    {
        RuleFor(r => r.Limit).ValidLimit(HistoryPageRequest.MaxLimit);
        RuleFor(r => r.BeforeSeq).GreaterThanOrEqualTo(MessageHistory.MinBeforeSeq)
            .WithMessage($"before_seq must be at least {MessageHistory.MinBeforeSeq}.");
        RuleFor(r => r.AfterSeq).GreaterThanOrEqualTo(MessageHistory.MinAfterSeq)
            .WithMessage($"after_seq must be at least {MessageHistory.MinAfterSeq}.");
    }
}
