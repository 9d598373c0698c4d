using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Features.Messages;

public enum AuthorCheck
{
    Allowed,
    NotFound,
    NotAuthor,
}

/// <summary>The rule for changing a message: it exists, is not deleted, sits in a conversation the caller is in, and is theirs.</summary>
public static class AuthoredMessage
{
    public static async Task<(Message? Message, AuthorCheck Check)> FindAsync(ChatDbContext db, Guid messageId, Guid userId, CancellationToken ct)
    {
        var found = await (
            from m in db.Messages.AsNoTracking()
            where m.Id == messageId && m.DeletedAt == null
            select new { Message = m, IsMember = db.Members.Any(x => x.ChatroomId == m.ChatroomId && x.UserId == userId) })
            .FirstOrDefaultAsync(ct);
        if (found is null || !found.IsMember)
        {
            return (null, AuthorCheck.NotFound);
        }
        return found.Message.SenderId == userId ? (found.Message, AuthorCheck.Allowed) : (null, AuthorCheck.NotAuthor);
    }
}
