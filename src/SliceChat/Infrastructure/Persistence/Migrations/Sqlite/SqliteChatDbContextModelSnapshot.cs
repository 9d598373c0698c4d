using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace SliceChat.Infrastructure.Persistence.Migrations.Sqlite;

[DbContext(typeof(SqliteChatDbContext))]
public sealed class SqliteChatDbContextModelSnapshot : ModelSnapshot
{
    protected override void BuildModel(ModelBuilder modelBuilder)
    {
        modelBuilder.HasAnnotation("ProductVersion", "10.0.14");
        InitialSchema.Snapshot(modelBuilder, StoreTypes.Sqlite);
    }
}
