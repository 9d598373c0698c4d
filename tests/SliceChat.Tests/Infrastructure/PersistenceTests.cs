using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Operations;
using Microsoft.EntityFrameworkCore.Metadata;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Infrastructure;

public sealed class PersistenceTests
{
    private static PostgresChatDbContext Postgres(string connectionString) =>
        new(new DbContextOptionsBuilder<PostgresChatDbContext>().UseNpgsql(connectionString).Options);

    private static SqliteChatDbContext Sqlite(string path) =>
        new(new DbContextOptionsBuilder<SqliteChatDbContext>().UseSqlite($"Data Source={path}").Options);

    /// <summary>What the model has that the hand-written snapshot lacks, as migration operations (empty when they agree).</summary>
    private static IReadOnlyList<MigrationOperation> SnapshotDrift(DbContext db)
    {
        var snapshot = db.GetService<IMigrationsAssembly>().ModelSnapshot!.Model;
        var initialized = db.GetService<IModelRuntimeInitializer>().Initialize((IModel)snapshot);
        return db.GetService<IMigrationsModelDiffer>().GetDifferences(
            initialized.GetRelationalModel(), db.GetService<IDesignTimeModel>().Model.GetRelationalModel());
    }

    [Fact]
    public void Postgres_SnapshotMatchesModel()
    {
        using var db = Postgres("Host=127.0.0.1;Database=unused");
        SnapshotDrift(db).Select(o => o.ToString()).ShouldBeEmpty();
        db.Database.HasPendingModelChanges().ShouldBeFalse();
    }

    [Fact]
    public void Sqlite_SnapshotMatchesModel()
    {
        using var db = Sqlite(Path.Combine(Path.GetTempPath(), "unused.db"));
        SnapshotDrift(db).Select(o => o.ToString()).ShouldBeEmpty();
        db.Database.HasPendingModelChanges().ShouldBeFalse();
    }

    [Fact]
    public async Task Postgres_MigrationsBuildEmptyDatabase_AlsoFromTwoInstancesAtOnce()
    {
        var connectionString = TestServers.CreatePostgresDatabase();
        try
        {
            await Task.WhenAll(Enumerable.Range(0, 3).Select(async _ =>
            {
                await using var db = Postgres(connectionString);
                await db.Database.MigrateAsync();
            }));
            await using var check = Postgres(connectionString);
            (await check.Database.GetAppliedMigrationsAsync()).ShouldBe(["20261122000000_Initial"]);
            (await check.Database.GetPendingMigrationsAsync()).ShouldBeEmpty();
            (await check.Users.CountAsync()).ShouldBe(0);
            (await check.Messages.CountAsync()).ShouldBe(0);
        }
        finally
        {
            TestServers.DropPostgresDatabase(connectionString);
        }
    }

    [Fact]
    public async Task Sqlite_MigrationsBuildEmptyDatabase_AlsoFromTwoInstancesAtOnce()
    {
        var folder = Directory.CreateTempSubdirectory("slicechat-migrate-").FullName;
        var path = Path.Combine(folder, "db.sqlite");
        try
        {
            await Task.WhenAll(Enumerable.Range(0, 3).Select(async _ =>
            {
                await using var db = Sqlite(path);
                await db.Database.MigrateAsync();
            }));
            await using var check = Sqlite(path);
            (await check.Database.GetAppliedMigrationsAsync()).ShouldBe(["20261122000000_Initial"]);
            (await check.Chatrooms.CountAsync()).ShouldBe(0);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }
}
