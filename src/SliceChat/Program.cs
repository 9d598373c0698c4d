using SliceChat.Infrastructure.Accounts;
using SliceChat.Infrastructure.Attachments;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Messaging;
using SliceChat.Infrastructure.Network;
using SliceChat.Infrastructure.Notifications;
using SliceChat.Infrastructure.Operations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Presence;
using SliceChat.Infrastructure.Realtime;
using SliceChat.Infrastructure.Security;
using SliceChat.Infrastructure.Slices;
using SliceChat.Infrastructure.WebClient;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddSlices();
builder.AddNetwork();
builder.AddLimits();
builder.AddPersistence();
builder.AddMessaging();
builder.AddSecurity();
builder.AddAccounts();
builder.AddConversations();
builder.AddAttachments();
builder.AddRealtime();
builder.AddPresence();
builder.AddNotifications();
builder.AddOperations();

var app = builder.Build();

await app.Services.MigrateDatabaseAsync();

app.UseNetwork();
app.UseSlices();
app.UseWebClient();
app.UseRequestBodyLimit();
app.UseRealtime();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();
app.MapOperations();
app.MapSlices();

await app.RunAsync();

public partial class Program;
