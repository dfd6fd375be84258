using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace HlmHub.Grpc.Tests.Infrastructure;

/// <summary>One log entry written by the server under test.</summary>
internal sealed record LogRecord(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception)
{
    public override string ToString() => $"{Level} {Category}[{EventId.Id}] {Message}{(Exception is null ? "" : "\n" + Exception)}";
}

/// <summary>Collects the server's logs so a test fails on any error it did not expect.</summary>
internal sealed class TestLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<LogRecord> Records { get; } = new();

    public ILogger CreateLogger(string categoryName) => new TestLogger(categoryName, this);

    public void Dispose()
    {
    }

    private sealed class TestLogger(string category, TestLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            provider.Records.Enqueue(new LogRecord(category, logLevel, eventId, formatter(state, exception), exception));
    }
}
