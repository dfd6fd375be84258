using HlmHub.Domain;
using HlmHub.Observability;
using HlmHub.Reconciliation;
using HlmHub.Server.Features.Fees;
using HlmHub.Server.Hosting;
using HlmHub.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Quartz;

namespace HlmHub.Server.Features.Scheduling;

/// <summary>
/// Quartz in the hub (docs/scheduling.md): a persistent job store on the hub's own database (a single node on
/// SQLite, a cluster on PostgreSQL and SQL Server), the hub's jobs with their Europe/Paris cron triggers, and the
/// <c>scheduler</c> health check.
/// </summary>
internal static class HubScheduling
{
    /// <summary>
    /// Part of <c>--migrate</c>, registered before the host is built: the store creates its missing tables when the
    /// scheduler is created (<see cref="ProvisionSchemaAsync"/>), whatever <c>Storage:ApplyMigrationsAtStartup</c>
    /// says. That setting is about serving (may a starting hub change the schema?); <c>--migrate</c> is the operator
    /// asking the hub to bring the schema up to date, and it is run with the production configuration, which in the
    /// DBA's mode says false: Quartz then only validated its tables, found none on a fresh database and failed the
    /// command after the migrations, leaving a database the hub could not start on.
    /// </summary>
    public static IServiceCollection ProvisionSchemaWhenCreated(this IServiceCollection services) =>
        services.PostConfigureAll<AdoJobStoreOptions>(store => store.SchemaProvisioning = SchemaProvisioning.CreateIfMissing);

    /// <summary>
    /// Part of <c>--migrate</c>: creating the scheduler has Quartz provision its missing tables
    /// (<see cref="ProvisionSchemaWhenCreated"/>), so a database migrated by the command then serves with
    /// <c>Storage:ApplyMigrationsAtStartup=false</c>. The scheduler is created, never started: no job runs.
    /// </summary>
    public static async Task ProvisionSchemaAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        if (services.GetService<ISchedulerFactory>() is { } factory)
        {
            var scheduler = await factory.GetScheduler(cancellationToken);
            await scheduler.Shutdown(waitForJobsToComplete: false, cancellationToken);
        }
    }

    /// <summary>The health check's name (tagged <c>ready</c>).</summary>
    public const string HealthCheckName = "scheduler";

    public static IServiceCollection AddHubScheduling(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<FeeOptions>()
            .Bind(configuration.GetSection(FeeOptions.SectionName))
            .ValidateSettings(FeeOptions.SectionName, static (check, options) => check
                .InRange(nameof(options.PaymentTermDays), options.PaymentTermDays, 0, 366)
                .InRange(nameof(options.ContractBatchSize), options.ContractBatchSize, 1, 10_000))
            .ValidateOnStart();
        // The overdue check counts what it finds on the hub's meter (idempotent: AddHubFeatures registers it too).
        services.AddHubMetrics();
        services.TryAddSingleton<FeeAccrualService>();
        services.TryAddSingleton<OverdueFeeService>();
        services.TryAddSingleton<OAuthStorePruning>();
        // The monthly job's engine, ReconciliationEngine, is registered by HubFeatures (AddHlmHubReconciliation).
        services.TryAddSingleton<MonthlyReconciliation>();

        var section = configuration.GetSection(SchedulingOptions.SectionName);
        services.AddOptions<SchedulingOptions>().Bind(section)
            .Validate(options => options.Problem() is null, "Invalid Scheduling settings (see the start-up error).")
            .ValidateOnStart();
        var options = section.Get<SchedulingOptions>() ?? new SchedulingOptions();
        if (options.Problem() is { } problem)
        {
            // The triggers are built now, from these values: fail with the setting's name rather than Quartz's parser error.
            throw new InvalidOperationException(problem);
        }

        if (!options.Enabled)
        {
            return services;
        }

        var storage = StorageServiceCollectionExtensions.ReadOptions(configuration);
        var paris = TimeZoneInfo.FindSystemTimeZoneById(Period.TimeZoneId);
        services.Configure<QuartzOptions>(quartz =>
        {
            // Triggers declared below replace the stored ones on every start (a changed cron applies), but keep their
            // firing history, so a firing missed while every node was down is a misfire, not forgotten.
            quartz.Scheduling.OverwriteExistingData = true;
            quartz.Scheduling.ScheduleTriggerRelativeToReplacedTrigger = true;
        });
        services.AddQuartz(quartz =>
        {
            quartz.ConfigureScheduler(scheduler =>
            {
                scheduler.InstanceName = "HlmHub";
                scheduler.DefaultTimeZone = paris;
                scheduler.IdleWaitTime = options.IdleWaitTime;
                if (!string.IsNullOrWhiteSpace(options.InstanceId))
                {
                    scheduler.InstanceId = options.InstanceId.Trim();
                }
            });
            quartz.UseDefaultThreadPool(options.ThreadCount);
            quartz.UsePersistentStore(store =>
            {
                switch (storage.Provider)
                {
                    case StorageProvider.Sqlite:
                        // SQLite cannot be clustered: Quartz runs it as a single node with in-process locks.
                        store.UseSqlite(storage.ConnectionString);
                        break;
                    case StorageProvider.Postgres:
                        store.UsePostgres(storage.ConnectionString);
                        break;
                    case StorageProvider.SqlServer:
                        store.UseSqlServer(storage.ConnectionString);
                        break;
                }

                if (storage.Provider != StorageProvider.Sqlite)
                {
                    store.UseClustering(cluster =>
                    {
                        cluster.CheckinInterval = options.CheckinInterval;
                        cluster.CheckinMisfireThreshold = options.CheckinMisfireThreshold;
                    });
                }

                store.ConfigureStore(ado => ado.MisfireThreshold = options.MisfireThreshold);
                if (storage.ApplyMigrationsAtStartup)
                {
                    // The hub owns its schema (it migrates at start-up): Quartz creates its own tables if missing.
                    // With ApplyMigrationsAtStartup=false the DBA owns it, and Quartz's default (validate, fail
                    // start-up if a table is missing) applies: docs/scheduling.md. `--migrate` provisions in both
                    // cases (ProvisionSchemaWhenCreated).
                    store.ProvisionSchema();
                }
            });

            AddJob<FeeAccrualJob>(quartz, FeeAccrualJob.JobName, options.FeeAccrualCron, paris);
            AddJob<OverdueFeesJob>(quartz, OverdueFeesJob.JobName, options.OverdueFeesCron, paris);
            AddJob<OAuthPruningJob>(quartz, OAuthPruningJob.JobName, options.PruningCron, paris);
            AddJob<MonthlyReconciliationJob>(quartz, MonthlyReconciliationJob.JobName, options.ReconciliationCron, paris);
        });
        services.AddQuartzHostedService(hosted =>
        {
            // Started as a hosted service, after the migration and identity services registered before it, and
            // before the hub reports itself started: from then on the "scheduler" health check (which the gRPC and
            // HTTP health endpoints include) is healthy, with no window where a started hub reads unhealthy.
            hosted.AwaitApplicationStarted = false;
            hosted.WaitForJobsToComplete = true;
        });
        services.AddHealthChecks().AddQuartz(check =>
        {
            check.Name = HealthCheckName;
            check.Tags.Add("ready");
        });
        services.AddSingleton<IPostConfigureOptions<HealthCheckServiceOptions>, SchedulerHealthCheck.Wrapping>();
        return services;
    }

    private static void AddJob<TJob>(IQuartzBuilder quartz, string name, string cron, TimeZoneInfo paris)
        where TJob : IJob
    {
        var key = new JobKey(name, HubJob.Group);
        quartz.AddJob<TJob>(job => job
            .WithIdentity(key)
            .StoreDurably()
            // Run again after a crash: the job's firing is recovered by this node on restart or by another node.
            .RequestRecovery()
            .DisallowConcurrentExecution());
        quartz.AddTrigger(trigger => trigger
            .ForJob(key)
            .WithIdentity(name, HubJob.Group)
            // A missed firing (all nodes down, or a busy pool past MisfireThreshold) runs once as soon as possible:
            // every job catches up on everything since its last run, so one run covers any number of missed ones.
            .WithCronSchedule(cron, schedule => schedule.InTimeZone(paris).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed)));
    }
}
