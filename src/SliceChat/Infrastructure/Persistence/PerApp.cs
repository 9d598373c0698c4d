namespace SliceChat.Infrastructure.Persistence;

/// <summary>
/// One <typeparamref name="T"/> per app (a singleton for every T, registered once), for the queries a slice or service
/// compiles with <c>EF.CompileAsyncQuery</c>: EF otherwise builds, parameterizes and looks up a query's expression tree
/// again on every call. Not static: a compiled query runs only with the model it first ran with, and one process may host
/// apps on different providers (the tests do).
/// </summary>
public sealed class PerApp<T> where T : class, new()
{
    public T Value { get; } = new();
}
