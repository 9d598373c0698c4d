namespace SliceChat.Infrastructure.Persistence.Migrations;

/// <summary>The column types a provider gives the model's CLR types; the schema below is written once for both.</summary>
public sealed record StoreTypes(string Uuid, string Text, Func<int, string> VarChar, string Timestamp, string Number64, string Number32, string Flag, Type TimestampClr)
{
    public static readonly StoreTypes Postgres = new("uuid", "text", n => $"character varying({n})", "timestamp with time zone", "bigint", "integer", "boolean", typeof(DateTimeOffset));

    // SQLite stores DateTimeOffset through DateTimeOffsetToBinaryConverter: an INTEGER column, a long in the snapshot.
    public static readonly StoreTypes Sqlite = new("TEXT", "TEXT", _ => "TEXT", "INTEGER", "INTEGER", "INTEGER", "INTEGER", typeof(long));

    public Type NullableTimestampClr => typeof(Nullable<>).MakeGenericType(TimestampClr);
}
