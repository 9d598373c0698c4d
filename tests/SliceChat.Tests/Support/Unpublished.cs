using Microsoft.Extensions.DependencyInjection;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Tests.Support;

public static class Unpublished
{
    /// <summary>Stores a message with the conversation's next seq and publishes nothing, as if its publish was lost on the way.</summary>
    public static async Task StoreMessageAsync(AppFactory instance, Guid room, Guid senderId, string content)
    {
        await using var scope = instance.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync();
        var seq = await scope.ServiceProvider.GetRequiredService<SeqAllocator>().NextAsync(room, Clock.Now(), default);
        db.Messages.Add(new Message { Id = Guid.CreateVersion7(), ChatroomId = room, Seq = seq!.Value, SenderId = senderId, Content = content, CreatedAt = Clock.Now() });
        await db.SaveChangesAsync();
        await transaction.CommitAsync();
    }
}
