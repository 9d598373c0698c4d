using Microsoft.Playwright;

namespace SliceChat.Tests.Support;

/// <summary>
/// Two Kestrel instances on one PostgreSQL and one Redis, and one headless Chromium for the whole test class
/// (each test opens its own browser contexts, so users do not share storage).
/// </summary>
public sealed class BrowserApp : AppFixture
{
    /// <summary>Debian's chromium, which scripts/test.sh installs; <c>SLICECHAT_TEST_CHROMIUM</c> names another.</summary>
    public static string ChromiumPath => Environment.GetEnvironmentVariable("SLICECHAT_TEST_CHROMIUM") ?? "/usr/bin/chromium";

    private IPlaywright? playwright;

    public override Provider Provider => Provider.Postgres;
    protected override bool UseRedis => true;

    public AppFactory A { get; private set; } = null!;
    public AppFactory B { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"No Chromium at {ChromiumPath}: run the tests with scripts/test.sh, which installs Debian's chromium package.");
        }
        await base.InitializeAsync();
        A = StartInstance(kestrel: true);
        B = StartInstance(kestrel: true);
        // The bundled Playwright driver (Node.js inside the NuGet package) drives the system's Chromium: nothing is downloaded.
        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = ChromiumPath, Headless = true });
        // A loaded 2-core box: waits for what a user sees are generous; a wrong client still fails them.
        Assertions.SetDefaultExpectTimeout(15_000);
    }

    /// <summary>
    /// A fresh browser context (its own storage, like another person's browser) with the client of this instance
    /// open; <paramref name="beforeLoad"/> prepares the page first (a fake clock, routes).
    /// </summary>
    public async Task<ChatPage> OpenAsync(AppFactory instance, int width = 1280, int height = 800, Func<IPage, Task>? beforeLoad = null)
    {
        var context = await Browser.NewContextAsync(new()
        {
            BaseURL = ChatSocket.KestrelAddress(instance, "http").ToString(),
            ViewportSize = new() { Width = width, Height = height },
        });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        var chat = new ChatPage(page);
        if (beforeLoad is not null)
        {
            await beforeLoad(page);
        }
        await page.GotoAsync("/");
        return chat;
    }

    public override async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        playwright?.Dispose();
        await base.DisposeAsync();
    }
}
