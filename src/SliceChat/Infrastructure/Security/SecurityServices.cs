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
                    // Browsers cannot set headers on a WebSocket handshake: accept ?token= there.
                    OnMessageReceived = context =>
                    {
                        if (context.Request.Path.StartsWithSegments("/ws") || context.Request.Path.StartsWithSegments("/api/v1/ws"))
                        {
                            var token = context.Request.Query["token"].ToString();
                            if (!string.IsNullOrEmpty(token))
                            {
                                context.Token = token;
                            }
                        }
                        return Task.CompletedTask;
                    },
                    OnTokenValidated = async context =>
                    {
                        var user = Slices.CurrentUser.FromPrincipal(context.Principal!);
                        var revocation = context.HttpContext.RequestServices.GetRequiredService<SessionRevocation>();
                        if (user is null || !await revocation.IsActiveAsync(user.SessionId, user.Id, context.HttpContext.RequestAborted))
                        {
                            context.Fail("The login session is revoked or expired.");
                            return;
                        }
                        // The validated identity holds the parsed token and every claim of it; a socket's request keeps its
                        // authentication result for the socket's life (~6 KB each), so it keeps only what slices bind.
                        context.Principal = user.ToPrincipal(context.Principal!.FindFirst(JwtRegisteredClaimNames.Exp)!.Value, context.Scheme.Name);
                    },
                };
            });
        services.AddAuthorization();
        return builder;
    }
}
