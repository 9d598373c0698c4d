using System.Net;
using SliceChat.Features;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Features.Attachments;

/// <summary>Two instances on one PostgreSQL, one Redis and one attachments directory.</summary>
public sealed class AttachmentsScaleOutTests(ScaledOutApp app) : IClassFixture<ScaledOutApp>
{
    [Fact]
    public async Task MessageWithAttachment_SentOnOneInstance_ReachesASocketOnTheOther_WhichServesTheFile()
    {
        var a = app.StartInstance();
        var b = app.StartInstance();
        var onA = new Api(a.CreateClient());
        var onB = new Api(b.CreateClient());
        var sender = await onA.RegisterAsync();
        var reader = await onA.RegisterAsync();
        var room = await onA.CreateRoomAsync(sender, isPrivate: false, reader.Id);
        var file = await onA.UploadedAsync(sender, Uploads.Png(64, 48), "shared.png");
        await using var socket = await ChatSocket.ConnectAsync(b, ApiRoutes.UserSocket, reader.AccessToken);
        await socket.NextAsync("ready");

        var sent = await onA.As(sender).PostAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room), new { content = "look", attachment_ids = new[] { file["id"].Text() } });
        await sent.ShouldHaveStatus(HttpStatusCode.Created);

        var created = await socket.NextAsync("message.created");
        created["attachments"]!.ToJsonString().ShouldBe(new System.Text.Json.Nodes.JsonArray(file.DeepClone()).ToJsonString());
        var download = await Uploads.GetAsync(onB, reader, file["url"].Text());
        await download.ShouldHaveStatus(HttpStatusCode.OK);
        download.Content.Headers.ContentLength.ShouldBe(file["size"]!.GetValue<long>());
        (await Uploads.GetAsync(onB, reader, file["thumbnail_url"].Text())).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task OfflineNotification_CarriesTheMessagesAttachments_StoredInTheBatchsTransaction()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var instance = app.StartInstance(s =>
        {
            s["Notifications:WebhookUrl"] = receiver.Url;
            s["Notifications:WebhookSecret"] = "attachments-webhook-secret";
            s["Notifications:DelaySeconds"] = "1";
            s["Notifications:PollMilliseconds"] = "200";
        });
        var api = new Api(instance.CreateClient());
        var sender = await api.RegisterAsync();
        var offline = await api.RegisterAsync();
        var file = await api.UploadedAsync(sender, Uploads.Png(12, 12), "note.png");
        var taken = await api.UploadedAsync(sender, Uploads.Png(12, 12), "taken.png");
        await (await api.As(sender).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = offline.Id, content = "first", attachment_ids = new[] { taken["id"].Text() } }))
            .ShouldHaveStatus(HttpStatusCode.Created);

        var sends = await Task.WhenAll(
            api.As(sender).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = offline.Id, content = "", attachment_ids = new[] { file["id"].Text() } }),
            api.As(sender).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = offline.Id, content = "again", attachment_ids = new[] { taken["id"].Text() } }));
        await sends[0].ShouldHaveStatus(HttpStatusCode.Created);
        await sends[1].ShouldBeValidationProblem("attachment_ids");

        // One webhook, or two when the box was slow enough to split the window: the stored messages, each with its attachment.
        static List<string> Notified(IReadOnlyList<ReceivedWebhook> webhooks) => [.. webhooks.Where(w => w.Status == 200)
            .SelectMany(w => w.Json["messages"]!.AsArray()).Select(m => m!["attachments"]!.AsArray().Single()!["id"].Text()).Distinct()];
        var received = await receiver.WaitAsync(r => Notified(r).Count >= 2, TimeSpan.FromSeconds(30));
        Notified(received).ShouldBe([taken["id"].Text(), file["id"].Text()]);
    }
}
