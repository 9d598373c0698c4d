using Microsoft.Extensions.Logging;

namespace SliceChat.Tests.Support;

/// <summary>Counts the SQL commands EF Core executes (its CommandExecuted log event), to pin query counts.</summary>
public sealed class CommandCounter : ILoggerProvider
{
    private const int CommandExecuted = 20101;
    private int count;
    private readonly List<string> commands = [];

    public int Count => Volatile.Read(ref count);

    public IReadOnlyList<string> Commands
    {
        get
        {
            lock (commands)
            {
                return commands.ToList();
            }
        }
    }

    public void Reset()
    {
        Interlocked.Exchange(ref count, 0);
        lock (commands)
        {
            commands.Clear();
        }
    }

    public ILogger CreateLogger(string categoryName) =>
        categoryName == "Microsoft.EntityFrameworkCore.Database.Command" ? new Counter(this) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public void Dispose()
    {
    }

    /// <summary>The settings that let the command log reach this provider but not the console.</summary>
    public static void Enable(Dictionary<string, string?> settings)
    {
        settings["Logging:LogLevel:Microsoft.EntityFrameworkCore.Database.Command"] = "Information";
        settings["Logging:Console:LogLevel:Microsoft.EntityFrameworkCore.Database.Command"] = "Warning";
        settings["Logging:Debug:LogLevel:Default"] = "None";
    }

    private sealed class Counter(CommandCounter owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == CommandExecuted)
            {
                Interlocked.Increment(ref owner.count);
                lock (owner.commands)
                {
                    owner.commands.Add(formatter(state, exception));
                }
            }
        }
    }
}
