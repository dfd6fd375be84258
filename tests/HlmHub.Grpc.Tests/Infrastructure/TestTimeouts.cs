namespace HlmHub.Grpc.Tests.Infrastructure;

/// <summary>Every awaited call in these tests is bounded, so a hang fails one test instead of the run.</summary>
internal static class TestTimeouts
{
    /// <summary>Generous on a shared 2-core machine; calls normally finish in milliseconds.</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(15);

    public static Task<T> DefaultTimeout<T>(this Task<T> task) => task.WaitAsync(Default);

    public static Task DefaultTimeout(this Task task) => task.WaitAsync(Default);

    /// <summary>True if <paramref name="task"/> completes within <paramref name="wait"/>; used to show something is blocked.</summary>
    public static async Task<bool> CompletesWithin(this Task task, TimeSpan wait)
    {
        var winner = await Task.WhenAny(task, Task.Delay(wait));
        return winner == task;
    }
}
