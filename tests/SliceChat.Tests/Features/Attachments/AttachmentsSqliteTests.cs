using System.Net;
using SliceChat.Features;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Features.Attachments;

/// <summary>The embedded database: the files under its data folder, claims and deletion through EF alone.</summary>
public sealed class AttachmentsSqliteTests(SqliteApp fixture) : IClassFixture<SqliteApp>
{
    [Fact]
    public async Task UploadSendDownloadDelete_OnSqlite()
    {
        var api = fixture.Api;
        var owner = await api.RegisterAsync();
        var other = await api.RegisterAsync();
        var room = await api.CreateRoomAsync(owner);
        var file = await api.UploadedAsync(owner, Uploads.Png(40, 30), "lite.png");
        var id = Guid.Parse(file["id"].Text());
        Uploads.StoredFiles(fixture.App).ShouldContain(id.ToString("N"));
        Directory.GetFiles(fixture.Database, id.ToString("N"), SearchOption.AllDirectories).ShouldNotBeEmpty();

        var messages = ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room);
        var sent = await api.As(owner).PostAsync(messages, new { attachment_ids = new[] { id }, client_message_id = "lite-1" });
        await sent.ShouldHaveStatus(HttpStatusCode.Created);
        var message = await sent.Json();
        message["attachments"]![0]!["width"]!.GetValue<int>().ShouldBe(40);
        await (await api.As(owner).PostAsync(messages, new { content = "twice", attachment_ids = new[] { id } })).ShouldBeValidationProblem("attachment_ids");
        (await api.As(owner).PostAsync(messages, new { attachment_ids = new[] { id }, client_message_id = "lite-1" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        var page = await (await api.As(owner).GetAsync(messages)).Json();
        page["items"]![0]!["attachments"]![0]!["id"].Text().ShouldBe(id.ToString());

        (await Uploads.GetAsync(api, owner, file["url"].Text())).StatusCode.ShouldBe(HttpStatusCode.OK);
        await (await Uploads.GetAsync(api, other, file["url"].Text())).ShouldBeProblem(HttpStatusCode.NotFound);

        await (await api.As(owner).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Message, message["id"].Text()))).ShouldHaveStatus(HttpStatusCode.NoContent);
        await (await Uploads.GetAsync(api, owner, file["url"].Text())).ShouldBeProblem(HttpStatusCode.NotFound);
        Uploads.StoredFiles(fixture.App).ShouldNotContain(id.ToString("N"));
    }
}
