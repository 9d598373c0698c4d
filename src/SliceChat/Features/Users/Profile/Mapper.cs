using System.Linq.Expressions;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Features.Users.Profile;

public static class Mapper
{
    public static readonly Expression<Func<User, Response>> Projection = u => new Response(u.Id, u.Username, u.CreatedAt);
}
