using FastEndpoints;
using FluentValidation;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Infrastructure.Conversations;

/// <summary>The cursors of a history page: none = the newest; <c>before_seq</c> = older; <c>after_seq</c> = newer (catch-up).</summary>
public abstract record HistoryPageRequest : CallerRequest
{
    public long? BeforeSeq { get; init; }
    public long? AfterSeq { get; init; }
    public int? Limit { get; init; }
}

public sealed record HistoryResponse(List<MessageResponse> Items, bool HasMore)
{
    public static HistoryResponse Empty { get; } = new([], false);
}

/// <summary>The rules of a history page's cursors, for every slice that pages a conversation.</summary>
public abstract class HistoryPageValidator<TRequest> : Validator<TRequest> where TRequest : HistoryPageRequest
{
    protected HistoryPageValidator()
    {
        RuleFor(r => r.Limit).ValidLimit(HistoryPage.MaxLimit);
        RuleFor(r => r.BeforeSeq).GreaterThanOrEqualTo(1).WithMessage("before_seq must be at least 1.");
        RuleFor(r => r.AfterSeq).GreaterThanOrEqualTo(0).WithMessage("after_seq must be at least 0.");
    }
}

/// <summary>One page of a conversation's history, ascending by seq, as one range query on (chatroom_id, seq).</summary>
public static class HistoryPage
{
    public const int DefaultLimit = 50, MaxLimit = 200;

    public static async Task<HistoryResponse> LoadAsync(ChatDbContext db, Guid chatroomId, HistoryPageRequest page, CancellationToken ct)
    {
        var limit = page.Limit ?? DefaultLimit;
        var before = page.BeforeSeq ?? long.MaxValue;
        if (page.AfterSeq is { } after)
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
