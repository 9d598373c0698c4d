using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace SliceChat.Infrastructure.Persistence.Migrations.Postgres;

[DbContext(typeof(PostgresChatDbContext))]
public sealed class PostgresChatDbContextModelSnapshot : ModelSnapshot
{
    protected override void BuildModel(ModelBuilder modelBuilder)
    {
        modelBuilder
            .HasAnnotation("ProductVersion", "10.0.14")
            .HasAnnotation("Relational:MaxIdentifierLength", 63);
        InitialSchema.Snapshot(modelBuilder, StoreTypes.Postgres);
    }
}
