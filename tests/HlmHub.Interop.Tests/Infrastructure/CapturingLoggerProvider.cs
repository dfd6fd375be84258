using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace HlmHub.Interop.Tests.Infrastructure;

/// <summary>
/// Keeps the in-process server's warnings and errors, so a test can fail on an unexpected error
/// log (a bug the peer may not see) and show the server's side of a failure.
/// </summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    /// <summary>At most this many entries are kept (newest dropped), so a flood cannot grow memory.</summary>
    public const int MaxEntries = 2_000;

    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    public IReadOnlyList<LogEntry> Errors => [.. _entries.Where(entry => entry.Level >= LogLevel.Error)];

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(this, categoryName);

    public void Dispose()
    {
    }

    public static string Describe(IEnumerable<LogEntry> entries) =>
        string.Join(Environment.NewLine, entries.Select(entry => entry.ToString()));

    private void Add(LogEntry entry)
    {
        if (_entries.Count < MaxEntries)
        {
            _entries.Enqueue(entry);
        }
    }

    internal sealed record LogEntry(LogLevel Level, string Category, string Message, string? Exception)
    {
        public override string ToString() => $"{Level} {Category}: {Message}{(Exception is null ? string.Empty : Environment.NewLine + Exception)}";
    }

    private sealed class CapturingLogger(CapturingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Add(new LogEntry(logLevel, category, formatter(state, exception), exception?.ToString()));
            }
        }
    }
}
