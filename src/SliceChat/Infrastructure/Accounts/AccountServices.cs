namespace SliceChat.Infrastructure.Accounts;

public static class AccountServices
{
    public static WebApplicationBuilder AddAccounts(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<Accounts>();
        return builder;
    }
}
