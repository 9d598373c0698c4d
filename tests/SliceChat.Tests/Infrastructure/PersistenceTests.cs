using SliceChat.Features;
using SliceChat.Infrastructure.Accounts;
using System.Data.Common;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Operations;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Infrastructure;

public sealed class PersistenceTests
{
    private static PostgresChatDbContext Postgres(string connectionString) =>
        new(new DbContextOptionsBuilder<PostgresChatDbContext>().UseNpgsql(connectionString).Options);

    private static SqliteChatDbContext Sqlite(string path) =>
        new(new DbContextOptionsBuilder<SqliteChatDbContext>().UseSqlite($"Data Source={path}").Options);

    /// <summary>What the model has that the migrations' model snapshot lacks, as migration operations (empty when they agree).</summary>
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
        SnapshotDrift(db).Select(o => o.ToString()).ShouldBeEmpty(NoMigrationFor(Provider.Postgres));
        db.Database.HasPendingModelChanges().ShouldBeFalse(NoMigrationFor(Provider.Postgres));
    }

    [Fact]
    public void Sqlite_SnapshotMatchesModel()
    {
        using var db = Sqlite(Path.Combine(Path.GetTempPath(), "unused.db"));
        SnapshotDrift(db).Select(o => o.ToString()).ShouldBeEmpty(NoMigrationFor(Provider.Sqlite));
        db.Database.HasPendingModelChanges().ShouldBeFalse(NoMigrationFor(Provider.Sqlite));
    }

    private static string NoMigrationFor(Provider provider) =>
        $"The model has changes that no {provider} migration holds: add one as README.md, \"Changing the schema\", says.";

    /// <summary>The two checks above do catch a model change that has no migration (here, one more index).</summary>
    [Theory]
    [InlineData(Provider.Postgres)]
    [InlineData(Provider.Sqlite)]
    public void ModelChangedWithoutMigration_IsCaught(Provider provider)
    {
        using ChatDbContext db = provider == Provider.Postgres
            ? new PostgresChatDbContext(new DbContextOptionsBuilder<PostgresChatDbContext>().UseNpgsql("Host=127.0.0.1;Database=unused")
                .ReplaceService<IModelCustomizer, ModelWithOneMoreIndex>().Options)
            : new SqliteChatDbContext(new DbContextOptionsBuilder<SqliteChatDbContext>().UseSqlite($"Data Source={Path.Combine(Path.GetTempPath(), "unused.db")}")
                .ReplaceService<IModelCustomizer, ModelWithOneMoreIndex>().Options);

        db.Database.HasPendingModelChanges().ShouldBeTrue();
        SnapshotDrift(db).OfType<CreateIndexOperation>().Select(o => o.Name).ShouldBe(["IX_messages_created_at"]);
    }

    /// <summary>Today's model plus an index that no migration creates.</summary>
    private sealed class ModelWithOneMoreIndex(ModelCustomizerDependencies dependencies) : RelationalModelCustomizer(dependencies)
    {
        public override void Customize(ModelBuilder modelBuilder, DbContext context)
        {
            base.Customize(modelBuilder, context);
            modelBuilder.Entity<Message>().HasIndex(m => m.CreatedAt);
        }
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
                await PersistenceServices.MigrateAsync(db);
            }));
            await using var check = Postgres(connectionString);
            (await check.Database.GetAppliedMigrationsAsync()).ShouldBe(check.Database.GetMigrations());
            (await check.Database.GetPendingMigrationsAsync()).ShouldBeEmpty();
            check.Database.GetMigrations().First().ShouldBe(InitialMigration);
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
                await PersistenceServices.MigrateAsync(db);
            }));
            await using var check = Sqlite(path);
            (await check.Database.GetAppliedMigrationsAsync()).ShouldBe(check.Database.GetMigrations());
            (await check.Chatrooms.CountAsync()).ShouldBe(0);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>A first start on an empty database logs no error (EF's migrator used to log its probe of the missing history table as one).</summary>
    [Theory]
    [InlineData(Provider.Postgres)]
    [InlineData(Provider.Sqlite)]
    public async Task FirstStartOnAnEmptyDatabase_LogsNoError(Provider provider)
    {
        using var database = new ScratchDatabase(provider);
        var errors = new ErrorLog();
        await using (var app = new AppFactory(AppFactory.Settings(provider, database.Location), errors))
        {
            _ = app.Server; // starting runs the migrations
            await using var scope = app.Services.CreateAsyncScope();
            (await scope.ServiceProvider.GetRequiredService<ChatDbContext>().Database.GetPendingMigrationsAsync()).ShouldBeEmpty();
        }
        errors.Lines.ShouldBeEmpty();
    }

    private sealed class ErrorLog : Microsoft.Extensions.Logging.ILoggerProvider, Microsoft.Extensions.Logging.ILogger
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Lines { get; } = new();

        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => logLevel >= Microsoft.Extensions.Logging.LogLevel.Error;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                Lines.Enqueue(formatter(state, exception));
            }
        }

        public void Dispose()
        {
        }
    }

    /// <summary>
    /// A database that the hand-written initial migration built (its SQL is kept in LegacySchema/), holding a user, a
    /// room and a message, is taken over by the app as it is today: it starts, sees nothing to migrate, reads the old
    /// rows and writes new ones.
    /// </summary>
    [Theory]
    [InlineData(Provider.Postgres)]
    [InlineData(Provider.Sqlite)]
    public async Task DatabaseFromHandWrittenInitialMigration_AppStarts_OldDataReadsAndWritesWork(Provider provider)
    {
        using var database = new ScratchDatabase(provider);
        await database.RunAsync(LegacyScript(provider));
        var old = await SeedLegacyRowsAsync(database);

        await using var app = new AppFactory(AppFactory.Settings(provider, database.Location));
        _ = app.Server; // starting runs the migrations
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
            (await db.Database.GetAppliedMigrationsAsync()).ShouldBe(db.Database.GetMigrations());
            (await db.Database.GetPendingMigrationsAsync()).ShouldBeEmpty();
            db.Database.HasPendingModelChanges().ShouldBeFalse();
        }

        var api = new Api(app.CreateClient());
        var tokens = await api.LoginAsync(old.Username, Api.Password);
        var owner = new Account(old.UserId, old.Username, old.Email, Api.Password,
            tokens["access_token"].Text(), tokens["refresh_token"].Text());
        var me = await (await api.As(owner).GetAsync(ApiRoutes.Me)).Json();
        me["username"].Text().ShouldBe(old.Username);

        var before = await (await api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, old.RoomId))).Json();
        before["items"]!.AsArray().Select(m => (m!["seq"]!.GetValue<long>(), m["content"].Text()))
            .ShouldBe([(1L, "written before the upgrade")]);

        var sent = await api.PostMessageAsync(owner, old.RoomId, "written after the upgrade");
        sent["seq"]!.GetValue<long>().ShouldBe(2);
        var after = await (await api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, old.RoomId))).Json();
        after["items"]!.AsArray().Select(m => m!["content"].Text()).ShouldBe(["written before the upgrade", "written after the upgrade"]);

        var newcomer = await api.RegisterAsync();
        var joined = await api.As(newcomer).PostAsync(ApiRoutes.Fill(ApiRoutes.JoinChatroom, old.RoomId));
        await joined.ShouldHaveStatus(HttpStatusCode.OK);
    }

    /// <summary>The id databases built by the hand-written initial migration have recorded.</summary>
    private const string InitialMigration = "20261122000000_Initial";

    /// <summary>The generated initial migration builds, column for column and index for index, the schema the hand-written one built.</summary>
    [Theory]
    [InlineData(Provider.Postgres)]
    [InlineData(Provider.Sqlite)]
    public async Task Migrations_OnEmptyDatabase_BuildTheHandWrittenInitialSchema(Provider provider)
    {
        using var legacy = new ScratchDatabase(provider);
        await legacy.RunAsync(LegacyScript(provider));
        using var migrated = new ScratchDatabase(provider);
        await using (var db = migrated.Context())
        {
            await db.Database.MigrateAsync(InitialMigration);
        }

        var expected = await legacy.SchemaAsync();
        expected.ShouldNotBeEmpty();
        (await migrated.SchemaAsync()).ShouldBe(expected);
    }

    private sealed record LegacyRows(Guid UserId, string Username, string Email, Guid RoomId);

    /// <summary>Rows as the app of the hand-written migration stored them, written in SQL (not through today's model).</summary>
    private static async Task<LegacyRows> SeedLegacyRowsAsync(ScratchDatabase database)
    {
        var username = Api.UniqueName("old");
        var email = $"{username}@example.com";
        var rows = new LegacyRows(Guid.CreateVersion7(), username, email, Guid.CreateVersion7());
        var hash = new PasswordHasher<User>().HashPassword(new User { Username = username, NormalizedUsername = "", PasswordHash = "" }, Api.Password);
        var sqlite = database.Provider == Provider.Sqlite;
        // EF's SQLite mapping: a Guid is upper-case TEXT, a DateTimeOffset goes through DateTimeOffsetToBinaryConverter.
        object Id(Guid id) => sqlite ? id.ToString().ToUpperInvariant() : id;
        object At(DateTimeOffset at) => sqlite ? new DateTimeOffsetToBinaryConverter().ConvertToProvider(at)! : at;
        var at = Clock.Now().AddDays(-30);

        await using var connection = database.Connect();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO users (id, username, normalized_username, email, normalized_email, password_hash, created_at, deleted_at)
            VALUES (@user, @username, @normalizedUsername, @email, @normalizedEmail, @hash, @at, NULL);
            INSERT INTO chatrooms (id, kind, name, description, is_private, created_by, created_at, last_seq, last_activity_at, direct_key)
            VALUES (@room, 0, @roomName, NULL, @isPrivate, @user, @at, 1, @at, NULL);
            INSERT INTO members (chatroom_id, user_id, role, joined_at, last_read_seq)
            VALUES (@room, @user, 1, @at, 1);
            INSERT INTO messages (id, chatroom_id, seq, sender_id, recipient_id, content, client_message_id, created_at, edited_at, deleted_at)
            VALUES (@message, @room, 1, @user, NULL, 'written before the upgrade', 'old-1', @at, NULL, NULL);
            """;
        void Add(string name, object value)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
        Add("user", Id(rows.UserId));
        Add("username", username);
        Add("normalizedUsername", AccountRules.Normalize(username));
        Add("email", email);
        Add("normalizedEmail", AccountRules.Normalize(email));
        Add("hash", hash);
        Add("at", At(at));
        Add("room", Id(rows.RoomId));
        Add("roomName", Api.UniqueName("room"));
        Add("isPrivate", false);
        Add("message", Id(Guid.CreateVersion7()));
        await command.ExecuteNonQueryAsync();
        return rows;
    }

    private static string LegacyScript(Provider provider)
    {
        var name = $"LegacySchema.{provider.ToString().ToLowerInvariant()}.sql";
        using var stream = typeof(PersistenceTests).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Missing embedded resource {name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>An empty database of one test's own: a PostgreSQL database, or an SQLite data folder as the app takes it.</summary>
    private sealed class ScratchDatabase : IDisposable
    {
        public ScratchDatabase(Provider provider)
        {
            Provider = provider;
            Location = provider == Provider.Postgres
                ? TestServers.CreatePostgresDatabase()
                : Directory.CreateTempSubdirectory("slicechat-schema-").FullName;
        }

        public Provider Provider { get; }

        /// <summary>The Postgres connection string or the SQLite data folder (what <see cref="AppFactory.Settings"/> takes).</summary>
        public string Location { get; }

        private string SqliteConnectionString => $"Data Source={Path.Combine(Location, "slicechat.db")}";

        public DbConnection Connect() => Provider == Provider.Postgres
            ? new NpgsqlConnection(Location)
            : new SqliteConnection(SqliteConnectionString);

        public ChatDbContext Context() => Provider == Provider.Postgres ? Postgres(Location) : Sqlite(Path.Combine(Location, "slicechat.db"));

        public async Task RunAsync(string sql)
        {
            await using var connection = Connect();
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync();
        }

        /// <summary>Every column, index and constraint of the app's tables (EF's own history and lock tables left out), one line each, sorted.</summary>
        public async Task<List<string>> SchemaAsync()
        {
            string[] queries = Provider == Provider.Postgres
                ?
                [
                    """
                    SELECT table_name || '.' || column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '')
                        || CASE WHEN is_nullable = 'YES' THEN ' NULL' ELSE ' NOT NULL' END || coalesce(' DEFAULT ' || column_default, '')
                    FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE '%EFMigrations%'
                    """,
                    "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename NOT LIKE '%EFMigrations%'",
                    """
                    SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
                    FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text NOT LIKE '%EFMigrations%'
                    """,
                ]
                :
                [
                    // SQLite keeps each table's and index's definition as its CREATE statement.
                    "SELECT type || ' ' || name || ': ' || coalesce(sql, '(automatic)') FROM sqlite_master WHERE name NOT LIKE '%EFMigrations%'",
                ];
            var lines = new List<string>();
            await using var connection = Connect();
            await connection.OpenAsync();
            foreach (var query in queries)
            {
                await using var command = connection.CreateCommand();
                command.CommandText = query;
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    lines.Add(reader.GetString(0));
                }
            }
            lines.Sort(StringComparer.Ordinal);
            return lines;
        }

        public void Dispose()
        {
            if (Provider == Provider.Postgres)
            {
                TestServers.DropPostgresDatabase(Location);
            }
            else
            {
                SqliteConnection.ClearAllPools();
                Directory.Delete(Location, recursive: true);
            }
        }
    }

    /// <summary>EF's check against two operations at once on one context: on where a bug should fail loudly, off in Production (it allocates for every row read) unless set.</summary>
    [Theory]
    [InlineData("Testing", null, true)]
    [InlineData("Production", null, false)]
    [InlineData("Production", "true", true)]
    [InlineData("Testing", "false", false)]
    public void ThreadSafetyChecks_FollowEnvironmentUnlessSet(string environment, string? setting, bool enabled)
    {
        var settings = AppFactory.Settings(Provider.Sqlite, Directory.CreateTempSubdirectory().FullName);
        if (setting is not null)
        {
            settings["Storage:ThreadSafetyChecks"] = setting;
        }
        using var factory = new AppFactory(settings, configureHost: host => host.UseEnvironment(environment));
        using var scope = factory.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        db.GetService<IDbContextOptions>().FindExtension<CoreOptionsExtension>()!.ThreadSafetyChecksEnabled.ShouldBe(enabled);
    }
}
