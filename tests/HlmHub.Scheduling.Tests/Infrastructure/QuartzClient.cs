using HlmHub.Server.Features.Scheduling;
using HlmHub.Storage;
using Quartz;

namespace HlmHub.Scheduling.Tests.Infrastructure;

/// <summary>
/// Fires a hub job now through Quartz itself: a scheduler that is never started, on the hubs' job store, stores a
/// one-off trigger for the job, which a running hub node acquires and fires exactly as it fires a cron trigger.
/// </summary>
internal static class QuartzClient
{
    public static async Task TriggerAsync(EmptyDatabase database, string jobName)
    {
        var scheduler = await QuartzSchedulerBuilder.Create(quartz =>
        {
            quartz.ConfigureScheduler(options =>
            {
                options.InstanceName = "HlmHub";
                options.InstanceId = "test-client";
            });
            quartz.UsePersistentStore(store =>
            {
                if (database.Provider == StorageProvider.Postgres)
                {
                    store.UsePostgres(database.ConnectionString);
                    store.UseClustering(_ => { });
                }
                else
                {
                    store.UseSqlite(database.ConnectionString);
                }
            });
        }).BuildScheduler(TestTimeouts.Token());
        try
        {
            await scheduler.TriggerJob(new JobKey(jobName, HubJob.Group), TestTimeouts.Token());
        }
        finally
        {
            await scheduler.Shutdown(waitForJobsToComplete: false, TestTimeouts.Token());
        }
    }
}
