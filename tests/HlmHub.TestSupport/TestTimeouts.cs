namespace HlmHub.TestSupport;

/// <summary>Every awaited call in the tests is bounded, so a hang fails one test instead of the whole run.</summary>
public static class TestTimeouts
{
    /// <summary>Generous on a shared 2-core machine; calls normally finish in milliseconds.</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(60);

    /// <summary>Starting a hub migrates a fresh database and may seed the demo.</summary>
    public static readonly TimeSpan Startup = TimeSpan.FromSeconds(90);

    /// <summary>A token cancelled after <see cref="Default"/>.</summary>
    public static CancellationToken Token() => new CancellationTokenSource(Default).Token;

    public static Task<T> DefaultTimeout<T>(this Task<T> task) => task.WaitAsync(Default);

    public static Task DefaultTimeout(this Task task) => task.WaitAsync(Default);
}
