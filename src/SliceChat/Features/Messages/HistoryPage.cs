using SliceChat.Infrastructure.Conversations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Persistence;
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
/// One page of a conversation's history, ascending by seq, as one range query on (chatroom_id, seq):
/// no cursor = the newest <c>limit</c>; <c>before_seq</c> = older; <c>after_seq</c> = newer (catch-up).
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
        if (query.BeforeSeq is < 1)
        {
            return Problems.Invalid("before_seq", "before_seq must be at least 1.");
        }
        if (query.AfterSeq is < 0)
        {
            return Problems.Invalid("after_seq", "after_seq must be at least 0.");
        }
        return null;
    }

    public static async Task<HistoryResponse> LoadAsync(ChatDbContext db, Guid chatroomId, PageQuery query, CancellationToken ct)
    {
        var limit = query.Limit ?? DefaultLimit;
        var before = query.BeforeSeq ?? long.MaxValue;
        if (query.AfterSeq is { } after)
        {
            var newer = await db.Messages.Where(m => m.ChatroomId == chatroomId && m.Seq > after && m.Seq < before)
                .OrderBy(m => m.Seq).Take(limit + 1).Responses(db).ToListAsync(ct);
            return new HistoryResponse(newer.OrderBy(m => m.Seq).Take(limit).ToList(), newer.Count > limit);
        }
        var older = await db.Messages.Where(m => m.ChatroomId == chatroomId && m.Seq < before)
            .OrderByDescending(m => m.Seq).Take(limit + 1).Responses(db).ToListAsync(ct);
        return new HistoryResponse(older.OrderByDescending(m => m.Seq).Take(limit).OrderBy(m => m.Seq).ToList(), older.Count > limit);
    }
}
