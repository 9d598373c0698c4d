using Microsoft.Net.Http.Headers;

namespace SliceChat.Infrastructure.WebClient;

/// <summary>The web client: static files of wwwroot at <c>/</c>, a client of the public API like any other.</summary>
public static class WebClientServices
{
    /// <summary>
    /// Scripts, styles and everything fetched come from this origin only (no inline script or style); images may
    /// also be blob: URLs, which is how the client shows thumbnails it fetched with its bearer token.
    /// In CSP Level 3 'self' also covers ws: and wss: to the same host, the client's socket.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static WebApplication UseWebClient(this WebApplication app)
    {
        app.UseDefaultFiles();
        app.UseStaticFiles(new StaticFileOptions
        {
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                // Revalidated by ETag on every load, so a new version of the client is picked up at once.
                headers.CacheControl = "no-cache";
            },
        });
        return app;
    }
}
