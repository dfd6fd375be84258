using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace HlmHub.Identity.Tests.Infrastructure;

/// <summary>Every awaited call in these tests is bounded, so a hang fails one test instead of the run.</summary>
internal static class TestTimeouts
{
    /// <summary>Generous on a shared 2-core machine; calls normally finish in milliseconds.</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(60);

    public static Task<T> DefaultTimeout<T>(this Task<T> task) => task.WaitAsync(Default);

    public static Task DefaultTimeout(this Task task) => task.WaitAsync(Default);
}

/// <summary>The system clock moved forward by <see cref="Advance"/>: lets a test age tokens and keys without waiting.</summary>
internal sealed class AdjustableTimeProvider : TimeProvider
{
    private long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}

/// <summary>One log entry written by the server under test.</summary>
internal sealed record LogRecord(string Category, LogLevel Level, EventId EventId, string Message)
{
    public override string ToString() => $"{Level} {Category}[{EventId.Id}] {Message}";
}

/// <summary>Collects the server's logs so tests can assert on audits and fail on unexpected errors.</summary>
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
            provider.Records.Enqueue(new LogRecord(category, logLevel, eventId,
                formatter(state, exception) + (exception is null ? "" : " " + exception)));
    }
}
