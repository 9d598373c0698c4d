using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Infrastructure.Security;

public static class SecurityServices
{
    public static WebApplicationBuilder AddSecurity(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<JwtOptions>().Bind(builder.Configuration.GetSection(JwtOptions.Section))
            .Validate(o => o.AccessTokenMinutes is > 0 and <= 24 * 60, "Jwt:AccessTokenMinutes must be between 1 and 1440.")
            .Validate(o => o.RefreshTokenDays > 0, "Jwt:RefreshTokenDays must be positive.")
            .Validate(o => o.PruneSessionsMinutes > 0, "Jwt:PruneSessionsMinutes must be positive.")
            .Validate(o => o.ValidatedTokenCacheSize >= 0, "Jwt:ValidatedTokenCacheSize must not be negative.")
            .ValidateOnStart();

        // Resolved now, so a missing or short key outside Development stops start-up.
        var signingKey = SigningKey.Resolve(
            builder.Configuration[$"{JwtOptions.Section}:{nameof(JwtOptions.SigningKey)}"],
            builder.Environment.IsDevelopment(),
            PersistenceServices.DataDirectory(builder));
        services.AddSingleton(signingKey);
        services.AddSingleton<TokenService>();
        services.AddOptions<PasswordHashingOptions>().Bind(builder.Configuration.GetSection(PasswordHashingOptions.Section))
            .Validate(o => o.BcryptWorkFactor is >= 4 and <= 31, "Passwords:BcryptWorkFactor must be between 4 and 31.")
            .ValidateOnStart();
        services.AddSingleton<PasswordHasher>();
        services.AddSingleton<SessionRevocation>();
        services.AddScoped<LoginSessions>();
        services.AddHostedService(sp => sp.GetRequiredService<SessionRevocation>());
        services.AddSingleton<SessionPruning>();
        services.AddHostedService(sp => sp.GetRequiredService<SessionPruning>());

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<JwtOptions>>((bearer, jwtOptions) =>
            {
                var jwt = jwtOptions.Value;
                bearer.MapInboundClaims = false;
                // Nothing reads the token back from the authentication properties; a socket's request would keep it for its life.
                bearer.SaveToken = false;
                bearer.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = jwt.Issuer,
                    ValidAudience = jwt.Audience,
                    IssuerSigningKey = signingKey.Key,
                    ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                    ClockSkew = TimeSpan.FromSeconds(jwt.ClockSkewSeconds),
                    RequireExpirationTime = true,
                    RequireSignedTokens = true,
                    NameClaimType = "name",
                };
                bearer.Events = new JwtBearerEvents
                {
                    OnMessageReceived = async context =>
                    {
                        // Browsers cannot set headers on a WebSocket handshake: accept ?token= there.
                        var request = context.Request;
                        if (request.Path.StartsWithSegments("/ws") || request.Path.StartsWithSegments("/api/v1/ws"))
                        {
                            var query = request.Query["token"].ToString();
                            if (!string.IsNullOrEmpty(query))
                            {
                                context.Token = query;
                            }
                        }
                        var token = context.Token ?? BearerToken(request);
                        if (token is null || context.HttpContext.RequestServices.GetRequiredService<ValidatedTokens>().Find(token) is not { } known)
                        {
                            return; // JwtBearer validates it
                        }
                        if (await ActivePrincipalAsync(context.HttpContext, known.User, known.ExpiresAt, context.Scheme.Name) is { } principal)
                        {
                            context.Principal = principal;
                            context.Success();
                        }
                        else
                        {
                            context.Fail(Revoked);
                        }
                    },
                    OnTokenValidated = async context =>
                    {
                        var user = Slices.CurrentUser.FromPrincipal(context.Principal!);
                        var expiresAt = context.Principal!.FindFirst(JwtRegisteredClaimNames.Exp)!.Value;
                        // The validated identity holds the parsed token and every claim of it; a socket's request keeps its
                        // authentication result for the socket's life (~6 KB each), so it keeps only what slices bind.
                        if (await ActivePrincipalAsync(context.HttpContext, user, expiresAt, context.Scheme.Name) is not { } principal)
                        {
                            context.Fail(Revoked);
                            return;
                        }
                        context.Principal = principal;
                        var token = (JsonWebToken)context.SecurityToken;
                        context.HttpContext.RequestServices.GetRequiredService<ValidatedTokens>()
                            .Add(token.EncodedToken, new ValidatedTokens.Entry(user!, expiresAt, new DateTimeOffset(token.ValidTo, TimeSpan.Zero)));
                    },
                };
            });
        services.AddAuthorization();
        services.AddSingleton<ValidatedTokens>();
        return builder;
    }

    private const string Revoked = "The login session is revoked or expired.";

    /// <summary>The token of an <c>Authorization: Bearer</c> header, as JwtBearer reads it.</summary>
    private static string? BearerToken(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization["Bearer ".Length..].Trim() is { Length: > 0 } token
            ? token
            : null;
    }

    /// <summary>The caller's principal, with only the claims slices bind, while their login session is active.</summary>
    private static async Task<System.Security.Claims.ClaimsPrincipal?> ActivePrincipalAsync(HttpContext http, Slices.CurrentUser? user, string expiresAt, string scheme) =>
        user is not null && await http.RequestServices.GetRequiredService<SessionRevocation>().IsActiveAsync(user.SessionId, user.Id, http.RequestAborted)
            ? user.ToPrincipal(expiresAt, scheme)
            : null;
}
