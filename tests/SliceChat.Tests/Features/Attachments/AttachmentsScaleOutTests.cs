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
}
