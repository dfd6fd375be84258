using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace HlmHub.TestSupport;

/// <summary>One log entry written by the code under test.</summary>
public sealed record LogRecord(string Category, LogLevel Level, EventId EventId, string Message)
{
    public override string ToString() => $"{Level} {Category}[{EventId.Id}] {Message}";
}

/// <summary>Collects logs so a test can assert on them (and on what they must never contain, such as secrets).</summary>
public sealed class TestLoggerProvider(LogLevel minimumLevel = LogLevel.Information) : ILoggerProvider
{
    public ConcurrentQueue<LogRecord> Records { get; } = new();

    public ILogger CreateLogger(string categoryName) => new TestLogger(categoryName, this);

    public void Dispose()
    {
    }

    private sealed class TestLogger(string category, TestLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= provider._minimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Records.Enqueue(new LogRecord(category, logLevel, eventId, formatter(state, exception) + (exception is null ? "" : " " + exception)));
            }
        }
    }

    private readonly LogLevel _minimumLevel = minimumLevel;
}
