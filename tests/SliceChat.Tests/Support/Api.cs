using SliceChat.Features;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Tests.Support;

public sealed record Account(Guid Id, string Username, string Email, string Password, string AccessToken, string RefreshToken);

/// <summary>A REST client speaking the contract's JSON (snake_case); assertions read responses as JSON nodes.</summary>
public sealed class Api(HttpClient http)
{
    public const string Password = "correct horse battery";

    public HttpClient Http { get; } = http;

    public static string UniqueName(string prefix = "u") => $"{prefix}{Guid.NewGuid():N}"[..20];

    public Api As(string accessToken)
    {
        var client = new Api(Http);
        return client.WithToken(accessToken);
    }

    public Api As(Account account) => As(account.AccessToken);

    private string? token;

    private Api WithToken(string accessToken)
    {
        token = accessToken;
        return this;
    }

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: SliceServices.JsonOptions);
        }
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return Http.SendAsync(request);
    }

    public Task<HttpResponseMessage> GetAsync(string path) => SendAsync(HttpMethod.Get, path);
    public Task<HttpResponseMessage> PostAsync(string path, object? body = null) => SendAsync(HttpMethod.Post, path, body);
    public Task<HttpResponseMessage> PatchAsync(string path, object? body = null) => SendAsync(HttpMethod.Patch, path, body);
    public Task<HttpResponseMessage> DeleteAsync(string path, object? body = null) => SendAsync(HttpMethod.Delete, path, body);

    public async Task<Account> RegisterAsync(string? username = null)
    {
        username ??= UniqueName();
        var email = $"{username}@example.com";
        var registered = await PostAsync(ApiRoutes.Register, new { username, email, password = Password });
        await registered.ShouldHaveStatus(HttpStatusCode.Created);
        var user = await registered.Json();
        var tokens = await LoginAsync(username, Password);
        return new Account(Guid.Parse(user["id"]!.GetValue<string>()), username, email, Password,
            tokens["access_token"]!.GetValue<string>(), tokens["refresh_token"]!.GetValue<string>());
    }

    public async Task<Guid> CreateRoomAsync(Account owner, bool isPrivate = false, params Guid[] memberIds)
    {
        var response = await As(owner).PostAsync(ApiRoutes.Chatrooms, new { name = UniqueName("room"), is_private = isPrivate, member_ids = memberIds });
        await response.ShouldHaveStatus(HttpStatusCode.Created);
        return Guid.Parse((await response.Json())["id"].Text());
    }

    public async Task<JsonNode> PostMessageAsync(Account sender, Guid chatroomId, string content, string? clientMessageId = null)
    {
        var response = await As(sender).PostAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, chatroomId), new { content, client_message_id = clientMessageId });
        await response.ShouldHaveStatus(HttpStatusCode.Created);
        return await response.Json();
    }

    public async Task<JsonNode> LoginAsync(string username, string password)
    {
        var response = await PostAsync(ApiRoutes.Login, new { username, password });
        await response.ShouldHaveStatus(HttpStatusCode.OK);
        return await response.Json();
    }
}

public static class ResponseAssertions
{
    public static async Task<JsonNode> Json(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonNode.Parse(text) ?? throw new InvalidOperationException("Empty JSON body.");
    }

    public static async Task ShouldHaveStatus(this HttpResponseMessage response, HttpStatusCode expected)
    {
        if (response.StatusCode != expected)
        {
            var body = await response.Content.ReadAsStringAsync();
            throw new Shouldly.ShouldAssertException(
                $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}, expected {(int)expected}. Body: {body}");
        }
    }

    /// <summary>
    /// Asserts a retried send was stored: 201, or 200 with the original when the first try's commit landed but
    /// its answer was lost (an instance gone or a connection cut after the commit): what client_message_id is for.
    /// </summary>
    public static async Task ShouldBeStoredRetry(this HttpResponseMessage response, string clientMessageId)
    {
        if (response.StatusCode == HttpStatusCode.OK)
        {
            (await response.Json())["client_message_id"]?.GetValue<string>().ShouldBe(clientMessageId);
            return;
        }
        await response.ShouldHaveStatus(HttpStatusCode.Created);
    }

    /// <summary>Asserts an RFC 9457 problem: status, content type, title and detail present.</summary>
    public static async Task<JsonNode> ShouldBeProblem(this HttpResponseMessage response, HttpStatusCode expected)
    {
        await response.ShouldHaveStatus(expected);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json");
        var problem = await response.Json();
        problem["status"]!.GetValue<int>().ShouldBe((int)expected);
        problem["title"]!.GetValue<string>().ShouldNotBeNullOrWhiteSpace();
        problem["detail"]!.GetValue<string>().ShouldNotBeNullOrWhiteSpace();
        return problem;
    }

    /// <summary>Asserts a 400 validation problem naming exactly these fields.</summary>
    public static async Task<JsonNode> ShouldBeValidationProblem(this HttpResponseMessage response, params string[] fields)
    {
        var problem = await response.ShouldBeProblem(HttpStatusCode.BadRequest);
        var errors = problem["errors"]!.AsObject();
        errors.Select(e => e.Key).Order().ShouldBe(fields.Order());
        return problem;
    }

    public static string Text(this JsonNode? node) => node!.GetValue<string>();

    public static JsonSerializerOptions Options => SliceServices.JsonOptions;
}
