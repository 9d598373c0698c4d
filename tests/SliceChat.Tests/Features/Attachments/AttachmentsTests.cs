using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SliceChat.Features;
using SliceChat.Infrastructure.Attachments;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Features.Attachments;

/// <summary>The contract's Attachments table on PostgreSQL and the local store.</summary>
public sealed class AttachmentsTests(PostgresApp fixture) : IClassFixture<PostgresApp>
{
    private Api Api => fixture.Api;

    private static readonly byte[] Text = "hello, plain text\n"u8.ToArray();

    private static string Messages(Guid room) => ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room);

    private async Task<(Account Owner, Guid Room)> RoomAsync()
    {
        var owner = await Api.RegisterAsync();
        return (owner, await Api.CreateRoomAsync(owner));
    }

    [Fact]
    public async Task Upload_Png_Returns201WithDimensionsHashLocationAndThumbnail()
    {
        var owner = await Api.RegisterAsync();
        var png = Uploads.Png(800, 400);
        var response = await Api.UploadAsync(owner, png, "cat.png", "image/png");

        await response.ShouldHaveStatus(HttpStatusCode.Created);
        var attachment = (await response.Json()).AsObject();
        attachment.Select(p => p.Key).Order().ShouldBe(["content_type", "created_at", "filename", "height", "id", "sha256", "size", "thumbnail_url", "url", "width"]);
        var id = attachment["id"].Text();
        response.Headers.Location!.ToString().ShouldBe(ApiRoutes.Fill(ApiRoutes.Attachment, id));
        attachment["filename"].Text().ShouldBe("cat.png");
        attachment["content_type"].Text().ShouldBe("image/png");
        attachment["size"]!.GetValue<long>().ShouldBe(png.Length);
        attachment["width"]!.GetValue<int>().ShouldBe(800);
        attachment["height"]!.GetValue<int>().ShouldBe(400);
        attachment["sha256"].Text().ShouldBe(Convert.ToHexStringLower(SHA256.HashData(png)));
        attachment["url"].Text().ShouldBe(ApiRoutes.Fill(ApiRoutes.Attachment, id));
        attachment["thumbnail_url"].Text().ShouldBe(ApiRoutes.Fill(ApiRoutes.AttachmentThumbnail, id));

        var thumbnail = await Uploads.GetAsync(Api, owner, attachment["thumbnail_url"].Text());
        await thumbnail.ShouldHaveStatus(HttpStatusCode.OK);
        thumbnail.Content.Headers.ContentType!.MediaType.ShouldBe("image/png");
        using var image = SixLabors.ImageSharp.Image.Load(await thumbnail.Content.ReadAsByteArrayAsync());
        (image.Width, image.Height).ShouldBe((320, 160));
    }

    [Fact]
    public async Task Upload_Jpeg_ThumbnailIsJpegWithinBounds()
    {
        var owner = await Api.RegisterAsync();
        var attachment = await Api.UploadedAsync(owner, Uploads.Jpeg(300, 900), "tall.jpg", "image/jpeg");
        var thumbnail = await Uploads.GetAsync(Api, owner, attachment["thumbnail_url"].Text());
        thumbnail.Content.Headers.ContentType!.MediaType.ShouldBe("image/jpeg");
        using var image = SixLabors.ImageSharp.Image.Load(await thumbnail.Content.ReadAsByteArrayAsync());
        image.Height.ShouldBe(320);
        image.Width.ShouldBeLessThanOrEqualTo(107);
    }

    [Theory]
    [InlineData("gif", "image/gif")]
    [InlineData("webp", "image/webp")]
    public async Task Upload_GifAndWebp_AreImagesWithPngThumbnails(string format, string contentType)
    {
        var owner = await Api.RegisterAsync();
        var attachment = await Api.UploadedAsync(owner, Uploads.Encoded(format, 640, 480), $"pic.{format}");
        attachment["content_type"].Text().ShouldBe(contentType);
        (attachment["width"]!.GetValue<int>(), attachment["height"]!.GetValue<int>()).ShouldBe((640, 480));
        var thumbnail = await Uploads.GetAsync(Api, owner, attachment["thumbnail_url"].Text());
        thumbnail.Content.Headers.ContentType!.MediaType.ShouldBe("image/png");
        using var image = SixLabors.ImageSharp.Image.Load(await thumbnail.Content.ReadAsByteArrayAsync());
        (image.Width, image.Height).ShouldBe((320, 240));
    }

    [Fact]
    public async Task Upload_TypeComesFromTheBytes_NotTheLyingHeaderOrName()
    {
        var owner = await Api.RegisterAsync();
        var png = await Api.UploadedAsync(owner, Uploads.Png(10, 10), "notes.txt", "text/plain");
        png["content_type"].Text().ShouldBe("image/png");
        png["filename"].Text().ShouldBe("notes.txt");

        var text = await Api.UploadedAsync(owner, Text, "photo.png", "image/png");
        text["content_type"].Text().ShouldBe("text/plain; charset=utf-8");
        text["width"].ShouldBeNull();
        text["height"].ShouldBeNull();
        text["thumbnail_url"].ShouldBeNull();

        var pdf = await Api.UploadedAsync(owner, "%PDF-1.7\n%\xE2\xE3\n1 0 obj\n"u8.ToArray(), "doc.bin");
        pdf["content_type"].Text().ShouldBe("application/pdf");
        var zip = await Api.UploadedAsync(owner, [.. "PK\x03\x04"u8, .. new byte[100]], "a.zip");
        zip["content_type"].Text().ShouldBe("application/zip");
    }

    [Theory]
    [InlineData("<!DOCTYPE html><html><script>alert(1)</script></html>", "page.txt", "text/plain")]
    [InlineData("  <html><body onload=alert(1)>", "x.txt", "text/plain")]
    [InlineData("<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>", "x.png", "image/png")]
    [InlineData("MZ\u0090\0\u0003\0\0\0\u0004\0\0\0\u00FF\u00FF", "setup.png", "image/png")]
    [InlineData("\u007FELF\u0002\u0001\u0001\0", "tool.txt", "text/plain")]
    public async Task Upload_HtmlSvgOrExecutable_Returns415_AndStoresNothing(string content, string fileName, string declaredType)
    {
        var owner = await Api.RegisterAsync();
        var before = Uploads.StoredFiles(fixture.App).Length;
        var response = await Api.UploadAsync(owner, Encoding.Latin1.GetBytes(content), fileName, declaredType);
        await response.ShouldBeProblem(HttpStatusCode.UnsupportedMediaType);
        Uploads.StoredFiles(fixture.App).Length.ShouldBe(before);
    }

    [Fact]
    public async Task Upload_NoFilePart_Returns400()
    {
        var owner = await Api.RegisterAsync();
        var other = new MultipartFormDataContent { { new StringContent("hello"), "comment" } };
        await (await Uploads.PostAsync(Api, other, owner)).ShouldBeValidationProblem("file");
        await (await Uploads.PostAsync(Api, Uploads.Form(Text, "a.txt", "text/plain", part: "attachment"), owner)).ShouldBeValidationProblem("file");
        await (await Api.UploadAsync(owner, [], "empty.txt")).ShouldBeValidationProblem("file");
        await (await Api.As(owner).PostAsync(ApiRoutes.Attachments, new { file = "x" })).ShouldBeValidationProblem("file");
    }

    [Fact]
    public async Task Upload_WithoutToken_Returns401()
    {
        var response = await Api.Http.PostAsync(ApiRoutes.Attachments, Uploads.Form(Text, "a.txt", "text/plain"));
        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Upload_DecompressionBombPng_Returns400WithoutDecoding_AndStoresNothing()
    {
        var owner = await Api.RegisterAsync();
        var bomb = Uploads.PngDeclaring(50_000, 50_000);
        bomb.Length.ShouldBeLessThan(100);
        var before = Uploads.StoredFiles(fixture.App).Length;
        var memoryBefore = GC.GetTotalMemory(forceFullCollection: true);

        var problem = await (await Api.UploadAsync(owner, bomb, "bomb.png", "image/png")).ShouldBeValidationProblem("file");

        problem["errors"]!["file"]![0].Text().ShouldContain("50000x50000");
        (GC.GetTotalMemory(forceFullCollection: true) - memoryBefore).ShouldBeLessThan(200L * 1024 * 1024);
        Uploads.StoredFiles(fixture.App).Length.ShouldBe(before);
        // The instance still serves images.
        await Api.UploadedAsync(owner, Uploads.Png(20, 20), "fine.png");
    }

    [Fact]
    public async Task Upload_CorruptImage_Returns400_AndStoresNothing()
    {
        var owner = await Api.RegisterAsync();
        var corrupt = Uploads.Png(50, 50)[..60];
        var before = Uploads.StoredFiles(fixture.App).Length;
        await (await Api.UploadAsync(owner, corrupt, "broken.png")).ShouldBeValidationProblem("file");
        Uploads.StoredFiles(fixture.App).Length.ShouldBe(before);
    }

    [Fact]
    public async Task Upload_TraversalFileName_IsKeptForDisplayOnly()
    {
        var owner = await Api.RegisterAsync();
        var attachment = await Api.UploadedAsync(owner, Text, "../../../etc/passwd", "text/plain");

        attachment["filename"].Text().ShouldBe("../../../etc/passwd");
        var id = Guid.Parse(attachment["id"].Text());
        Uploads.StoredFiles(fixture.App).ShouldContain(id.ToString("N"));
        Uploads.StoredFiles(fixture.App).ShouldNotContain("passwd");
        var download = await Uploads.GetAsync(Api, owner, attachment["url"].Text());
        download.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("attachment");
        download.Content.Headers.ContentDisposition.FileName.ShouldBe("passwd");
    }

    [Fact]
    public async Task Download_ServesStoredBytesWithSafeHeaders_ETag304_AndRange206()
    {
        var owner = await Api.RegisterAsync();
        var bytes = Encoding.UTF8.GetBytes("0123456789 une fête\n");
        var attachment = await Api.UploadedAsync(owner, bytes, "notes été.txt", "text/html");

        var download = await Uploads.GetAsync(Api, owner, attachment["url"].Text());
        await download.ShouldHaveStatus(HttpStatusCode.OK);
        (await download.Content.ReadAsByteArrayAsync()).ShouldBe(bytes);
        download.Content.Headers.ContentType!.ToString().ShouldBe("text/plain; charset=utf-8");
        download.Content.Headers.ContentLength.ShouldBe(bytes.Length);
        download.Headers.GetValues("X-Content-Type-Options").Single().ShouldBe("nosniff");
        download.Headers.GetValues("Content-Security-Policy").Single().ShouldContain("default-src 'none'");
        download.Headers.GetValues("Content-Security-Policy").Single().ShouldContain("sandbox");
        var disposition = download.Content.Headers.ContentDisposition!;
        disposition.DispositionType.ShouldBe("attachment");
        disposition.FileNameStar.ShouldBe("notes été.txt");
        var etag = download.Headers.ETag!;

        var unchanged = await Uploads.GetAsync(Api, owner, attachment["url"].Text(), h => h.IfNoneMatch.Add(etag));
        unchanged.StatusCode.ShouldBe(HttpStatusCode.NotModified);

        var range = await Uploads.GetAsync(Api, owner, attachment["url"].Text(), h => h.Range = new System.Net.Http.Headers.RangeHeaderValue(2, 5));
        range.StatusCode.ShouldBe(HttpStatusCode.PartialContent);
        (await range.Content.ReadAsByteArrayAsync()).ShouldBe(bytes[2..6]);
        range.Content.Headers.ContentRange!.ToString().ShouldBe($"bytes 2-5/{bytes.Length}");

        var image = await Api.UploadedAsync(owner, Uploads.Png(4, 4), "dot.png");
        var inline = await Uploads.GetAsync(Api, owner, image["url"].Text());
        inline.Content.Headers.ContentType!.MediaType.ShouldBe("image/png");
        inline.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("inline");
    }

    [Fact]
    public async Task Thumbnail_OfNonImage_Returns404()
    {
        var owner = await Api.RegisterAsync();
        var text = await Api.UploadedAsync(owner, Text, "a.txt");
        await (await Uploads.GetAsync(Api, owner, ApiRoutes.Fill(ApiRoutes.AttachmentThumbnail, text["id"].Text()))).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await Uploads.GetAsync(Api, owner, ApiRoutes.Fill(ApiRoutes.Attachment, Guid.CreateVersion7()))).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Visibility_UploaderUntilUsed_ThenMembersOnly_NotOutsidersNorRemovedMembers()
    {
        var (owner, room) = await RoomAsync();
        var member = await Api.RegisterAsync();
        var outsider = await Api.RegisterAsync();
        await (await Api.As(member).PostAsync(ApiRoutes.Fill(ApiRoutes.JoinChatroom, room))).ShouldHaveStatus(HttpStatusCode.OK);
        var attachment = await Api.UploadedAsync(owner, Uploads.Png(8, 8), "p.png");
        var url = attachment["url"].Text();
        var thumbnail = attachment["thumbnail_url"].Text();

        (await Uploads.GetAsync(Api, owner, url)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await (await Uploads.GetAsync(Api, member, url)).ShouldBeProblem(HttpStatusCode.NotFound); // not used yet

        var sent = await Api.As(owner).PostAsync(Messages(room), new { content = "", attachment_ids = new[] { attachment["id"].Text() } });
        await sent.ShouldHaveStatus(HttpStatusCode.Created);

        (await Uploads.GetAsync(Api, member, url)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await Uploads.GetAsync(Api, member, thumbnail)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await (await Uploads.GetAsync(Api, outsider, url)).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await Uploads.GetAsync(Api, outsider, thumbnail)).ShouldBeProblem(HttpStatusCode.NotFound);

        await (await Api.As(owner).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Member, room, member.Id))).ShouldHaveStatus(HttpStatusCode.NoContent);
        await (await Uploads.GetAsync(Api, member, url)).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await Uploads.GetAsync(Api, member, thumbnail)).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Send_WithAttachments_EveryMessageShapeCarriesThem()
    {
        var (owner, room) = await RoomAsync();
        var first = await Api.UploadedAsync(owner, Uploads.Png(8, 8), "a.png");
        var second = await Api.UploadedAsync(owner, Text, "b.txt");

        var plain = await Api.PostMessageAsync(owner, room, "no files");
        plain["attachments"]!.AsArray().Count.ShouldBe(0);

        var response = await Api.As(owner).PostAsync(Messages(room), new { attachment_ids = new[] { second["id"].Text(), first["id"].Text() } });
        await response.ShouldHaveStatus(HttpStatusCode.Created);
        var message = await response.Json();
        message["content"].Text().ShouldBe("");
        var attached = message["attachments"]!.AsArray();
        attached.Select(a => a!["id"].Text()).ShouldBe([first["id"].Text(), second["id"].Text()]); // upload order
        attached[0]!.ToJsonString().ShouldBe(first.ToJsonString());

        var page = await (await Api.As(owner).GetAsync(Messages(room))).Json();
        page["items"]![0]!["attachments"]!.AsArray().Count.ShouldBe(0);
        page["items"]![1]!["attachments"]!.ToJsonString().ShouldBe(attached.ToJsonString());

        var conversations = await (await Api.As(owner).GetAsync(ApiRoutes.Conversations)).Json();
        var conversation = conversations.AsArray().Single(c => c!["chatroom_id"].Text() == room.ToString())!;
        conversation["last_message"]!["attachments"]!.ToJsonString().ShouldBe(attached.ToJsonString());
    }

    [Fact]
    public async Task SendDm_WithAttachment_PartnerMayDownload()
    {
        var me = await Api.RegisterAsync();
        var partner = await Api.RegisterAsync();
        var file = await Api.UploadedAsync(me, Text, "dm.txt");
        var response = await Api.As(me).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = partner.Id, content = "see file", attachment_ids = new[] { file["id"].Text() } });
        await response.ShouldHaveStatus(HttpStatusCode.Created);
        (await response.Json())["attachments"]![0]!["id"].Text().ShouldBe(file["id"].Text());
        (await Uploads.GetAsync(Api, partner, file["url"].Text())).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Send_AnotherUsersUpload_UsedTwice_Unknown_TooMany_OrNothing_Returns400()
    {
        var (owner, room) = await RoomAsync();
        var other = await Api.RegisterAsync();
        await (await Api.As(other).PostAsync(ApiRoutes.Fill(ApiRoutes.JoinChatroom, room))).ShouldHaveStatus(HttpStatusCode.OK);
        var theirs = await Api.UploadedAsync(other, Text, "theirs.txt");
        var mine = await Api.UploadedAsync(owner, Text, "mine.txt");

        await (await Api.As(owner).PostAsync(Messages(room), new { content = "x", attachment_ids = new[] { theirs["id"].Text() } }))
            .ShouldBeValidationProblem("attachment_ids");
        await (await Api.As(owner).PostAsync(Messages(room), new { content = "x", attachment_ids = new[] { Guid.CreateVersion7() } }))
            .ShouldBeValidationProblem("attachment_ids");
        await (await Api.As(owner).PostAsync(Messages(room), new { content = "first", attachment_ids = new[] { mine["id"].Text() } }))
            .ShouldHaveStatus(HttpStatusCode.Created);
        await (await Api.As(owner).PostAsync(Messages(room), new { content = "again", attachment_ids = new[] { mine["id"].Text() } }))
            .ShouldBeValidationProblem("attachment_ids");
        await (await Api.As(owner).PostAsync(Messages(room), new { content = "x", attachment_ids = Enumerable.Range(0, 11).Select(_ => Guid.CreateVersion7()) }))
            .ShouldBeValidationProblem("attachment_ids");
        await (await Api.As(owner).PostAsync(Messages(room), new { content = "", attachment_ids = Array.Empty<Guid>() })).ShouldBeValidationProblem("content");

        // Refused sends stored nothing: no seq was taken.
        var page = await (await Api.As(owner).GetAsync(Messages(room))).Json();
        page["items"]!.AsArray().Select(m => m!["seq"]!.GetValue<long>()).ShouldBe([1]);
        (await Uploads.GetAsync(Api, other, theirs["url"].Text())).StatusCode.ShouldBe(HttpStatusCode.OK); // still theirs, unused
    }

    [Fact]
    public async Task Send_RetryWithSameClientMessageId_AnswersOriginalWithItsAttachments()
    {
        var (owner, room) = await RoomAsync();
        var file = await Api.UploadedAsync(owner, Text, "once.txt");
        var body = new { content = "with file", client_message_id = "retry-1", attachment_ids = new[] { file["id"].Text() } };
        var first = await Api.As(owner).PostAsync(Messages(room), body);
        await first.ShouldHaveStatus(HttpStatusCode.Created);
        var retry = await Api.As(owner).PostAsync(Messages(room), body);
        await retry.ShouldHaveStatus(HttpStatusCode.OK);
        (await retry.Json()).ToJsonString().ShouldBe((await first.Json()).ToJsonString());
    }

    [Fact]
    public async Task Send_ClaimFailuresInABatch_FailAlone()
    {
        var (owner, room) = await RoomAsync();
        var contested = await Api.UploadedAsync(owner, Text, "contested.txt");
        var sends = Enumerable.Range(0, 24).Select(i => Api.As(owner).PostAsync(Messages(room), i % 6 == 0
            ? new { content = $"claims {i}", attachment_ids = new[] { contested["id"].Text() } }
            : (object)new { content = $"plain {i}" })).ToList();
        var responses = await Task.WhenAll(sends);

        var claimers = responses.Where((_, i) => i % 6 == 0).ToList();
        claimers.Count(r => r.StatusCode == HttpStatusCode.Created).ShouldBe(1);
        claimers.Count(r => r.StatusCode == HttpStatusCode.BadRequest).ShouldBe(3);
        responses.Where((_, i) => i % 6 != 0).ShouldAllBe(r => r.StatusCode == HttpStatusCode.Created);
        var page = await (await Api.As(owner).GetAsync(Messages(room))).Json();
        page["items"]!.AsArray().Select(m => m!["seq"]!.GetValue<long>()).ShouldBe(Enumerable.Range(1, 21).Select(i => (long)i));
        page["items"]!.AsArray().Sum(m => m!["attachments"]!.AsArray().Count).ShouldBe(1);
    }

    [Fact]
    public async Task DeleteMessage_DeletesItsAttachmentsRowsAndFiles()
    {
        var (owner, room) = await RoomAsync();
        var file = await Api.UploadedAsync(owner, Uploads.Png(16, 16), "gone.png");
        var id = Guid.Parse(file["id"].Text());
        var message = await (await Api.As(owner).PostAsync(Messages(room), new { content = "bye", attachment_ids = new[] { id } })).Json();
        Uploads.StoredFiles(fixture.App).ShouldContain(id.ToString("N"));

        await (await Api.As(owner).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Message, message["id"].Text()))).ShouldHaveStatus(HttpStatusCode.NoContent);

        await (await Uploads.GetAsync(Api, owner, file["url"].Text())).ShouldBeProblem(HttpStatusCode.NotFound);
        Uploads.StoredFiles(fixture.App).ShouldNotContain(id.ToString("N"));
        Uploads.StoredFiles(fixture.App).ShouldNotContain(AttachmentKeys.Thumbnail(id));
        var page = await (await Api.As(owner).GetAsync(Messages(room))).Json();
        page["items"]![0]!["attachments"]!.AsArray().Count.ShouldBe(0);
    }

    [Fact]
    public async Task DeleteRoom_DeletesItsAttachments()
    {
        var (owner, room) = await RoomAsync();
        var file = await Api.UploadedAsync(owner, Text, "room.txt");
        var id = Guid.Parse(file["id"].Text());
        await (await Api.As(owner).PostAsync(Messages(room), new { content = "f", attachment_ids = new[] { id } })).ShouldHaveStatus(HttpStatusCode.Created);

        await (await Api.As(owner).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Chatroom, room))).ShouldHaveStatus(HttpStatusCode.NoContent);

        Uploads.StoredFiles(fixture.App).ShouldNotContain(id.ToString("N"));
        await using var scope = fixture.App.Services.CreateAsyncScope();
        (await scope.ServiceProvider.GetRequiredService<ChatDbContext>().Attachments.AnyAsync(a => a.Id == id)).ShouldBeFalse();
    }

    [Fact]
    public async Task DeleteAccount_DeletesItsUnusedUploads_KeepsThoseOfItsMessages()
    {
        var (owner, room) = await RoomAsync();
        var leaver = await Api.RegisterAsync();
        await (await Api.As(leaver).PostAsync(ApiRoutes.Fill(ApiRoutes.JoinChatroom, room))).ShouldHaveStatus(HttpStatusCode.OK);
        var unused = Guid.Parse((await Api.UploadedAsync(leaver, Text, "draft.txt"))["id"].Text());
        var used = await Api.UploadedAsync(leaver, Text, "kept.txt");
        await (await Api.As(leaver).PostAsync(Messages(room), new { content = "k", attachment_ids = new[] { used["id"].Text() } })).ShouldHaveStatus(HttpStatusCode.Created);

        await (await Api.As(leaver).DeleteAsync(ApiRoutes.Me, new { current_password = Api.Password })).ShouldHaveStatus(HttpStatusCode.NoContent);

        Uploads.StoredFiles(fixture.App).ShouldNotContain(unused.ToString("N"));
        (await Uploads.GetAsync(Api, owner, used["url"].Text())).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Sweep_DeletesUnusedUploadsPastTheirHours_KeepsUsedAndRecentOnes()
    {
        var (owner, room) = await RoomAsync();
        var stale = Guid.Parse((await Api.UploadedAsync(owner, Text, "stale.txt"))["id"].Text());
        var recent = Guid.Parse((await Api.UploadedAsync(owner, Text, "recent.txt"))["id"].Text());
        var used = Guid.Parse((await Api.UploadedAsync(owner, Text, "used.txt"))["id"].Text());
        await (await Api.As(owner).PostAsync(Messages(room), new { content = "u", attachment_ids = new[] { used } })).ShouldHaveStatus(HttpStatusCode.Created);
        await using (var scope = fixture.App.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
            var dayAgo = DateTimeOffset.UtcNow.AddHours(-25);
            await db.Attachments.Where(a => a.Id == stale || a.Id == used).ExecuteUpdateAsync(s => s.SetProperty(a => a.CreatedAt, dayAgo));
        }

        (await fixture.App.Services.GetRequiredService<AttachmentSweeper>().SweepAsync(default)).ShouldBeGreaterThanOrEqualTo(1);

        await (await Uploads.GetAsync(Api, owner, ApiRoutes.Fill(ApiRoutes.Attachment, stale))).ShouldBeProblem(HttpStatusCode.NotFound);
        Uploads.StoredFiles(fixture.App).ShouldNotContain(stale.ToString("N"));
        (await Uploads.GetAsync(Api, owner, ApiRoutes.Fill(ApiRoutes.Attachment, recent))).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await Uploads.GetAsync(Api, owner, ApiRoutes.Fill(ApiRoutes.Attachment, used))).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task SocketSend_WithAttachments_MessageCreatedCarriesThem_AndBadIdsGetAnError()
    {
        var (owner, room) = await RoomAsync();
        var file = await Api.UploadedAsync(owner, Text, "socket.txt");
        await using var socket = await ChatSocket.ConnectAsync(fixture.App, ApiRoutes.UserSocket, owner.AccessToken);
        await socket.NextAsync("ready");

        await socket.SendAsync(new { type = "message.send", chatroom_id = room, content = "", attachment_ids = new[] { file["id"].Text() }, client_message_id = "s-1" });
        var created = await socket.NextAsync("message.created");
        created["attachments"]![0]!["id"].Text().ShouldBe(file["id"].Text());
        created["attachments"]![0]!["url"].Text().ShouldBe(file["url"].Text());

        await socket.SendAsync(new { type = "message.send", chatroom_id = room, content = "again", attachment_ids = new[] { file["id"].Text() }, client_message_id = "s-2" });
        var error = await socket.NextAsync("error");
        error["code"].Text().ShouldBe("validation_failed");
        error["message"].Text().ShouldContain("attachment_ids");
        error["client_message_id"].Text().ShouldBe("s-2");

        // A room socket's untyped send may carry attachments alone.
        var second = await Api.UploadedAsync(owner, Text, "room-socket.txt");
        await using var roomSocket = await ChatSocket.ConnectAsync(fixture.App, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), owner.AccessToken);
        await roomSocket.NextAsync("ready");
        await roomSocket.SendAsync(new { attachment_ids = new[] { second["id"].Text() } });
        (await roomSocket.NextAsync("message.created"))["attachments"]![0]!["id"].Text().ShouldBe(second["id"].Text());
    }

    [Fact]
    public async Task Upload_OverTheLimit_Returns413()
    {
        var instance = fixture.StartInstance(s => s["Limits:AttachmentMaxBytes"] = "4096");
        var api = new Api(instance.CreateClient());
        var owner = await api.RegisterAsync();
        await api.UploadedAsync(owner, [.. "PK\x03\x04"u8, .. new byte[4092]], "exact.zip");
        await (await api.UploadAsync(owner, [.. "PK\x03\x04"u8, .. new byte[4093]], "over.zip")).ShouldBeProblem(HttpStatusCode.RequestEntityTooLarge);
        await (await api.UploadAsync(owner, [.. "PK\x03\x04"u8, .. new byte[100_000]], "far.zip")).ShouldBeProblem(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Upload_OverTheWriteLimit_Returns429WithRetryAfter_AndStoresNothing()
    {
        var instance = fixture.StartInstance(SliceChat.Tests.Infrastructure.Limits.LimitSettings.With(("WritesPerMinute", 2)));
        var api = new Api(instance.CreateClient());
        var me = await api.RegisterAsync();
        await api.UploadedAsync(me, Text, "1.txt");
        await api.UploadedAsync(me, Text, "2.txt");
        var before = Uploads.StoredFiles(instance).Length;
        var limited = await api.UploadAsync(me, Text, "3.txt");
        await limited.ShouldBeProblem(HttpStatusCode.TooManyRequests);
        limited.Headers.RetryAfter.ShouldNotBeNull();
        Uploads.StoredFiles(instance).Length.ShouldBe(before);
        await api.UploadedAsync(await api.RegisterAsync(), Text, "theirs.txt"); // another user's budget
    }

    [Fact]
    public async Task Upload_DeclaredBodyOverTheLimit_Answers413AtOnce_OnKestrel()
    {
        using var tcp = await StartUploadAsync($"Content-Length: {1L << 30}");
        var stream = tcp.GetStream();

        (await StatusLineAsync(stream)).ShouldStartWith("HTTP/1.1 413");
    }

    [Fact]
    public async Task Upload_StreamedBodyPastTheLimit_Answers413BeforeTheBodyEnds_OnKestrel()
    {
        using var tcp = await StartUploadAsync("Transfer-Encoding: chunked");
        var stream = tcp.GetStream();
        await WriteChunkAsync(stream, Encoding.ASCII.GetBytes(
            "--edge\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.zip\"\r\nContent-Type: application/zip\r\n\r\nPK\x03\x04"));
        // 11 MiB of a file that would go on for 1 GiB: the end never comes, so only an early answer passes.
        var chunk = new byte[64 * 1024];
        for (var sent = 0; sent < 11 * 1024 * 1024; sent += chunk.Length)
        {
            await WriteChunkAsync(stream, chunk);
        }

        (await StatusLineAsync(stream)).ShouldStartWith("HTTP/1.1 413");
    }

    /// <summary>A raw connection to a Kestrel instance that has sent an upload's request head with <paramref name="framing"/>.</summary>
    private async Task<TcpClient> StartUploadAsync(string framing)
    {
        var instance = fixture.StartInstance(kestrel: true);
        var owner = await new Api(instance.CreateClient()).RegisterAsync();
        var address = ChatSocket.KestrelAddress(instance, "http");
        var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        await tcp.GetStream().WriteAsync(Encoding.ASCII.GetBytes(
            $"POST {ApiRoutes.Attachments} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {owner.AccessToken}\r\n"
            + $"Content-Type: multipart/form-data; boundary=edge\r\n{framing}\r\n\r\n"));
        return tcp;
    }

    private static async Task WriteChunkAsync(NetworkStream stream, byte[] data)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{data.Length:x}\r\n"));
        await stream.WriteAsync(data);
        await stream.WriteAsync("\r\n"u8.ToArray());
    }

    private static async Task<string> StatusLineAsync(NetworkStream stream)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var received = new List<byte>();
        var buffer = new byte[4096];
        while (!received.Contains((byte)'\n'))
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0)
            {
                break;
            }
            received.AddRange(buffer[..read]);
        }
        return Encoding.ASCII.GetString([.. received]);
    }
}
