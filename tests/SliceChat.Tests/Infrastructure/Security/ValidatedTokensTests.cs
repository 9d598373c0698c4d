using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Security;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Tests.Infrastructure.Security;

public sealed class ValidatedTokensTests
{
    private static ValidatedTokens.Entry EntryValidFor(TimeSpan lifetime) =>
        new(new CurrentUser(Guid.NewGuid(), "ann", Guid.NewGuid()), "0", DateTimeOffset.UtcNow + lifetime);

    [Fact]
    public async Task Token_IsKnownByItsExactText_UntilItExpires()
    {
        using var tokens = new ValidatedTokens(Options.Create(new JwtOptions()));
        var entry = EntryValidFor(TimeSpan.FromSeconds(1));
        tokens.Add("header.payload.signature", entry);

        tokens.Find("header.payload.signature").ShouldBe(entry);
        tokens.Find("header.payload.signaturf").ShouldBeNull();
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        tokens.Find("header.payload.signature").ShouldBeNull();
    }

    [Fact]
    public void SizeZero_RemembersNothing()
    {
        using var tokens = new ValidatedTokens(Options.Create(new JwtOptions { ValidatedTokenCacheSize = 0 }));
        tokens.Add("header.payload.signature", EntryValidFor(TimeSpan.FromMinutes(1)));
        tokens.Find("header.payload.signature").ShouldBeNull();
    }
}
