using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Attachments;
using SliceChat.Infrastructure.Persistence;

namespace SliceChat.Infrastructure.Conversations;

public enum AuthoredChange
{
    Done,
    NotFound,
    NotAuthor,
}

/// <summary>
/// Edits and deletions of one's own messages: the message exists, is not deleted, sits in a conversation the
/// caller is in, and is theirs. The write is conditional, so an edit racing a delete never brings content back;
/// the changed message is published as <c>message.updated</c> or <c>message.deleted</c>. A deleted message's attachments go with its content.
/// </summary>
public sealed class AuthoredMessages(ChatDbContext db, ChatEvents events, AttachmentCleanup attachments)
{
    public async Task<(AuthoredChange Outcome, MessageResponse? Message)> ChangeAsync(
        Guid messageId, Guid userId, string content, bool delete, CancellationToken ct)
    {
        var found = await (
            from m in db.Messages.AsNoTracking()
            where m.Id == messageId && m.DeletedAt == null
            select new { m.ChatroomId, m.SenderId, IsMember = db.Members.Any(x => x.ChatroomId == m.ChatroomId && x.UserId == userId) })
            .FirstOrDefaultAsync(ct);
        if (found is null || !found.IsMember)
        {
            return (AuthoredChange.NotFound, null);
        }
        if (found.SenderId != userId)
        {
            return (AuthoredChange.NotAuthor, null);
        }
        var now = Clock.Now();
        var changed = await db.Messages.Where(m => m.Id == messageId && m.DeletedAt == null)
            .ExecuteUpdateAsync(s =>
            {
                s.SetProperty(m => m.Content, content);
                if (delete)
                {
                    s.SetProperty(m => m.DeletedAt, now);
                }
                else
                {
                    s.SetProperty(m => m.EditedAt, now);
                }
            }, ct);
        if (changed == 0)
        {
            return (AuthoredChange.NotFound, null);
        }
        if (delete)
        {
            await attachments.DeleteOfMessageAsync(messageId, ct);
        }
        var response = (await db.Messages.Where(m => m.Id == messageId).ResponsesAsync(db, ct)).Single();
        await events.PublishAsync(found.ChatroomId, delete ? ChatEvents.MessageDeleted : ChatEvents.MessageUpdated, response);
        return (AuthoredChange.Done, response);
    }
}
