using FluentValidation.TestHelper;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Tests.Features;

/// <summary>Each slice's validator on its own (FluentValidation's TestHelper); the HTTP tests cover the 400 bodies.</summary>
public sealed class ValidatorTests
{
    [Theory]
    [InlineData("ab", "ada@example.com", "correct horse battery", "Username")]
    [InlineData("ada lovelace", "ada@example.com", "correct horse battery", "Username")]
    [InlineData("ada", "not-an-email", "correct horse battery", "Email")]
    [InlineData("ada", "ada@example", "correct horse battery", "Email")]
    [InlineData("ada", "ada@example.com", "short", "Password")]
    public void Register_RefusesEachBadField(string username, string email, string password, string field)
    {
        var result = new SliceChat.Features.Auth.Register.Validator().TestValidate(
            new SliceChat.Features.Auth.Register.Request { Username = username, Email = email, Password = password });
        // Property names are snake_case once FastEndpoints is configured in this process, PascalCase before.
        result.Errors.Select(e => Problems.SnakeCase(e.PropertyName)).Distinct().ShouldBe([Problems.SnakeCase(field)]);
    }

    [Fact]
    public void Register_AcceptsAGoodAccount() =>
        new SliceChat.Features.Auth.Register.Validator().TestValidate(
            new SliceChat.Features.Auth.Register.Request { Username = "ada.l-1_", Email = "ada@example.com", Password = new string('p', 128) })
            .ShouldNotHaveAnyValidationErrors();

    [Fact]
    public void Login_NeedsUsernameAndPassword()
    {
        var result = new SliceChat.Features.Auth.Login.Validator().TestValidate(new SliceChat.Features.Auth.Login.Request());
        result.ShouldHaveValidationErrorFor(r => r.Username);
        result.ShouldHaveValidationErrorFor(r => r.Password);
    }

    [Fact]
    public void UpdateMe_NeedsTheCurrentPassword_AndChecksOnlyTheFieldsGiven()
    {
        var validator = new SliceChat.Features.Users.UpdateMe.Validator();
        validator.TestValidate(new SliceChat.Features.Users.UpdateMe.Request { Email = "ada@example.com" })
            .ShouldHaveValidationErrorFor(r => r.CurrentPassword);
        validator.TestValidate(new SliceChat.Features.Users.UpdateMe.Request { CurrentPassword = "x" }).ShouldNotHaveAnyValidationErrors();
        validator.TestValidate(new SliceChat.Features.Users.UpdateMe.Request { CurrentPassword = "x", Username = "a" })
            .ShouldHaveValidationErrorFor(r => r.Username);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("   ", false)]
    [InlineData(" general ", true)]
    public void CreateChatroom_NameIsOneToAHundredCharactersAfterTrimming(string? name, bool valid)
    {
        var result = new SliceChat.Features.Chatrooms.Create.Validator().TestValidate(new SliceChat.Features.Chatrooms.Create.Request { Name = name });
        if (valid)
        {
            result.ShouldNotHaveAnyValidationErrors();
        }
        else
        {
            result.ShouldHaveValidationErrorFor(r => r.Name);
        }
    }

    [Fact]
    public void CreateChatroom_RefusesTooManyInitialMembersAndALongDescription()
    {
        var result = new SliceChat.Features.Chatrooms.Create.Validator().TestValidate(new SliceChat.Features.Chatrooms.Create.Request
        {
            Name = "room",
            Description = new string('d', 1001),
            MemberIds = Enumerable.Range(0, 101).Select(_ => Guid.CreateVersion7()).ToList(),
        });
        result.ShouldHaveValidationErrorFor(r => r.Description);
        result.ShouldHaveValidationErrorFor(r => r.MemberIds);
    }

    [Theory]
    [InlineData(null, "c", false)]
    [InlineData(" \t ", "c", false)]
    [InlineData("hi", " padded ", false)]
    [InlineData("hi", null, true)]
    public void Send_ContentAndClientMessageId(string? content, string? clientMessageId, bool valid)
    {
        var result = new SliceChat.Features.Messages.Send.Validator().TestValidate(
            new SliceChat.Features.Messages.Send.Request { Content = content, ClientMessageId = clientMessageId });
        result.IsValid.ShouldBe(valid);
    }

    [Fact]
    public void SendDm_NeedsARecipient()
    {
        new SliceChat.Features.Messages.SendDm.Validator().TestValidate(new SliceChat.Features.Messages.SendDm.Request { Content = "hi", RecipientId = Guid.Empty })
            .ShouldHaveValidationErrorFor(r => r.RecipientId);
    }

    [Theory]
    [InlineData(0, null, null)]
    [InlineData(201, null, null)]
    [InlineData(null, 0L, null)]
    [InlineData(null, null, -1L)]
    public void History_RefusesBadCursorsAndLimits(int? limit, long? beforeSeq, long? afterSeq)
    {
        var request = new SliceChat.Features.Messages.History.Request { Limit = limit, BeforeSeq = beforeSeq, AfterSeq = afterSeq };
        new SliceChat.Features.Messages.History.Validator().TestValidate(request).IsValid.ShouldBeFalse();
        new SliceChat.Features.Messages.DmHistory.Validator().TestValidate(
            new SliceChat.Features.Messages.DmHistory.Request { Limit = limit, BeforeSeq = beforeSeq, AfterSeq = afterSeq }).IsValid.ShouldBeFalse();
    }

    [Fact]
    public void History_AcceptsTheBounds() =>
        new SliceChat.Features.Messages.History.Validator().TestValidate(
            new SliceChat.Features.Messages.History.Request { Limit = 200, BeforeSeq = 1, AfterSeq = 0 }).ShouldNotHaveAnyValidationErrors();

    [Theory]
    [InlineData("everything", 10, "Scope")]
    [InlineData("public", 101, "Limit")]
    [InlineData("joined", 0, "Limit")]
    public void ListChatrooms_ScopeAndLimit(string scope, int limit, string field) =>
        new SliceChat.Features.Chatrooms.List.Validator().TestValidate(new SliceChat.Features.Chatrooms.List.Request { Scope = scope, Limit = limit })
            .Errors.Select(e => Problems.SnakeCase(e.PropertyName)).ShouldBe([Problems.SnakeCase(field)]);

    [Fact]
    public void SearchUsers_LimitComesFromTheSetting()
    {
        var validator = new SliceChat.Features.Users.Search.Validator(Options.Create(new LimitsOptions { MaxSearchResults = 5 }));
        validator.TestValidate(new SliceChat.Features.Users.Search.Request { Limit = 5 }).ShouldNotHaveAnyValidationErrors();
        validator.TestValidate(new SliceChat.Features.Users.Search.Request { Limit = 6 }).ShouldHaveValidationErrorFor(r => r.Limit);
        validator.TestValidate(new SliceChat.Features.Users.Search.Request { Query = new string('a', 33) }).ShouldHaveValidationErrorFor(r => r.Query);
    }

    [Fact]
    public void MarkRead_NeedsANonNegativeSeq()
    {
        var validator = new SliceChat.Features.Conversations.MarkRead.Validator();
        validator.TestValidate(new SliceChat.Features.Conversations.MarkRead.Request()).ShouldHaveValidationErrorFor(r => r.Seq);
        validator.TestValidate(new SliceChat.Features.Conversations.MarkRead.Request { Seq = -1 }).ShouldHaveValidationErrorFor(r => r.Seq);
        validator.TestValidate(new SliceChat.Features.Conversations.MarkRead.Request { Seq = 0 }).ShouldNotHaveAnyValidationErrors();
    }

    [Fact]
    public void AddMember_RefreshAndEdit_NeedTheirField()
    {
        new SliceChat.Features.Chatrooms.AddMember.Validator().TestValidate(new SliceChat.Features.Chatrooms.AddMember.Request())
            .ShouldHaveValidationErrorFor(r => r.UserId);
        new SliceChat.Features.Auth.Refresh.Validator().TestValidate(new SliceChat.Features.Auth.Refresh.Request())
            .ShouldHaveValidationErrorFor(r => r.RefreshToken);
        new SliceChat.Features.Messages.Edit.Validator().TestValidate(new SliceChat.Features.Messages.Edit.Request { Content = "" })
            .ShouldHaveValidationErrorFor(r => r.Content);
        new SliceChat.Features.Users.DeleteMe.Validator().TestValidate(new SliceChat.Features.Users.DeleteMe.Request())
            .ShouldHaveValidationErrorFor(r => r.CurrentPassword);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-a-uuid")]
    [InlineData("01a2017d-cb02-70f5-9fff-8ebbdec903a7,nope")]
    [InlineData("01a2017d-cb02-70f5-9fff-8ebbdec903a7,01a2017d-cb02-70f5-9fff-8ebbdec903a8,01a2017d-cb02-70f5-9fff-8ebbdec903a9")]
    public void UsersPresence_RefusesMissingMalformedOrTooManyIds(string? ids) =>
        new SliceChat.Features.Users.Presence.Validator(Options.Create(new SliceChat.Infrastructure.Presence.PresenceOptions { MaxIds = 2 }))
            .TestValidate(new SliceChat.Features.Users.Presence.Request { Ids = ids })
            .ShouldHaveValidationErrorFor(r => r.Ids);

    [Fact]
    public void UsersPresence_AcceptsUpToMaxIds_WithSpaces() =>
        new SliceChat.Features.Users.Presence.Validator(Options.Create(new SliceChat.Infrastructure.Presence.PresenceOptions { MaxIds = 2 }))
            .TestValidate(new SliceChat.Features.Users.Presence.Request { Ids = "01a2017d-cb02-70f5-9fff-8ebbdec903a7, 01a2017d-cb02-70f5-9fff-8ebbdec903a8" })
            .ShouldNotHaveAnyValidationErrors();

    [Fact]
    public void Mute_NeedsMuted()
    {
        new SliceChat.Features.Chatrooms.Mute.Validator().TestValidate(new SliceChat.Features.Chatrooms.Mute.Request())
            .ShouldHaveValidationErrorFor(r => r.Muted);
        new SliceChat.Features.Chatrooms.Mute.Validator().TestValidate(new SliceChat.Features.Chatrooms.Mute.Request { Muted = false })
            .ShouldNotHaveAnyValidationErrors();
    }
}
