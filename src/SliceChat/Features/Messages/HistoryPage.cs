using SliceChat.Infrastructure.Conversations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Messages;

public sealed record PageQuery(
    [FromQuery(Name = "before_seq")] long? BeforeSeq,
    [FromQuery(Name = "after_seq")] long? AfterSeq,
    [FromQuery(Name = "limit")] int? Limit);

public sealed record HistoryResponse(List<MessageResponse> Items, bool HasMore)
{
    public static HistoryResponse Empty { get; } = new([], false);
}

/// <summary>
/// The REST history pages' query string: <c>limit</c> 1–<see cref="MaxLimit"/> (default
/// <see cref="DefaultLimit"/>) and the cursors, under <see cref="MessageHistory"/>'s paging rule.
/// </summary>
public static class HistoryPage
{
    public const int DefaultLimit = 50, MaxLimit = 200;

    public static ValidationProblem? Validate(PageQuery query)
    {
        if (query.Limit is < 1 or > MaxLimit)
        {
            return Problems.Invalid("limit", $"limit must be between 1 and {MaxLimit}.");
        }
        if (query.BeforeSeq < MessageHistory.MinBeforeSeq)
        {
            return Problems.Invalid("before_seq", $"before_seq must be at least {MessageHistory.MinBeforeSeq}.");
        }
        if (query.AfterSeq < MessageHistory.MinAfterSeq)
        {
            return Problems.Invalid("after_seq", $"after_seq must be at least {MessageHistory.MinAfterSeq}.");
        }
        return null;
    }

    public static async Task<HistoryResponse> LoadAsync(MessageHistory history, Guid chatroomId, PageQuery query, CancellationToken ct)
    {
        var page = await history.PageAsync(chatroomId, query.BeforeSeq, query.AfterSeq, query.Limit ?? DefaultLimit, ct);
        return new HistoryResponse(page.Items, page.HasMore);
    }
}
