using System.Text.Json.Serialization;
using System.Linq.Expressions;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Infrastructure.Conversations;

/// <summary>
/// A room member as others see them: no email; read markers only for fellow members (null for the rest); <c>muted</c>
/// only on the caller's own entry (left out of the others).
/// </summary>
public sealed record MemberResponse(Guid UserId, string Username, string Role, DateTimeOffset JoinedAt, long? LastReadSeq,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Muted);

public static class MemberMapper
{
    /// <summary>Members in the order they joined; <paramref name="callerId"/>'s own entry shows whether they muted the conversation.</summary>
    public static IQueryable<MemberResponse> MemberResponses(this ChatDbContext db, Expression<Func<Member, bool>> filter, bool showReadMarkers, Guid callerId) =>
        from m in db.Members.Where(filter)
        join u in db.Users on m.UserId equals u.Id
        orderby m.JoinedAt, u.NormalizedUsername
        select new MemberResponse(m.UserId, u.Username, m.Role == MemberRole.Owner ? "owner" : "member", m.JoinedAt, showReadMarkers ? m.LastReadSeq : null,
            m.UserId == callerId ? m.Muted : null);
}
