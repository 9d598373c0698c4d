namespace SliceChat.Infrastructure.Conversations;

public static class ConversationServices
{
    public static WebApplicationBuilder AddConversations(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ChatEvents>();
        builder.Services.AddScoped<ChatroomAccess>();
        builder.Services.AddSingleton<CoalescedRoomAccess>();
        builder.Services.AddScoped<Membership>();
        builder.Services.AddScoped<ReadMarkers>();
        builder.Services.AddScoped<MessageHistory>();
        builder.Services.AddScoped<MessageWriter>();
        builder.Services.AddScoped<MessageStore>();
        builder.Services.AddSingleton<SendBatcher>();
        builder.Services.AddHostedService(services => services.GetRequiredService<SendBatcher>());
        builder.Services.AddScoped<AuthoredMessages>();
        return builder;
    }
}
