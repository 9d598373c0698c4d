using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SliceChat.Tests.Support;

/// <summary>The web client in one browser page, found by the accessible names people and assistive technology use.</summary>
public sealed class ChatPage(IPage page)
{
    public IPage Page { get; } = page;

    /// <summary>The page's script errors and Content-Security-Policy violations (failed requests are the tests' own business).</summary>
    public List<string> Problems { get; } = Watch(page);

    public ILocator Conversations => Page.GetByRole(AriaRole.List, new() { Name = "Conversations", Exact = true });
    public ILocator Messages => Page.GetByRole(AriaRole.Log, new() { Name = "Messages", Exact = true });
    public ILocator MessageItems => Messages.GetByRole(AriaRole.Listitem);
    public ILocator MessageBox => Page.GetByRole(AriaRole.Textbox, new() { Name = "Message", Exact = true });
    public ILocator SendButton => Page.GetByRole(AriaRole.Button, new() { Name = "Send", Exact = true });
    public ILocator Status => Page.GetByRole(AriaRole.Status);
    public ILocator Alert => Page.GetByRole(AriaRole.Alert);

    public ILocator Conversation(string name) =>
        Conversations.GetByRole(AriaRole.Listitem).Filter(new() { Has = Page.GetByText(name, new() { Exact = true }) });

    public ILocator Message(string text) => MessageItems.Filter(new() { HasText = text });

    public async Task LogInAsync(Account account)
    {
        await SubmitLoginAsync(account.Username, account.Password);
        await ConnectedAsync();
    }

    public async Task SubmitLoginAsync(string username, string password)
    {
        await Page.GetByLabel("Username", new() { Exact = true }).FillAsync(username);
        await Page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Log in", Exact = true }).ClickAsync();
    }

    public async Task RegisterAsync(string username, string password)
    {
        await Page.GetByRole(AriaRole.Button, new() { Name = "Register a new account" }).ClickAsync();
        await Page.GetByLabel("Username", new() { Exact = true }).FillAsync(username);
        await Page.GetByLabel("Email", new() { Exact = true }).FillAsync($"{username}@example.com");
        await Page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Create account", Exact = true }).ClickAsync();
    }

    public Task ConnectedAsync() => Expect(Status).ToHaveTextAsync("Connected");

    public async Task OpenAsync(string conversation)
    {
        await Conversation(conversation).GetByRole(AriaRole.Button).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = conversation, Exact = true })).ToBeVisibleAsync();
    }

    public async Task SendAsync(string text)
    {
        await MessageBox.FillAsync(text);
        await SendButton.ClickAsync();
    }

    /// <summary>The texts of the open conversation's messages, in the order shown.</summary>
    public Task<IReadOnlyList<string>> ContentsAsync() => Messages.Locator(".content").AllInnerTextsAsync();

    private static List<string> Watch(IPage page)
    {
        var problems = new List<string>();
        page.PageError += (_, error) => problems.Add($"page error: {error}");
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"console: {message.Text}");
            }
        };
        return problems;
    }
}
