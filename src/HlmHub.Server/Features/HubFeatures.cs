using HlmHub.Observability;
using HlmHub.Server.Features.Admin;
using HlmHub.Server.Features.Demo;
using HlmHub.Server.Features.Eligibility;
using HlmHub.Server.Features.Federation;
using HlmHub.Server.Features.Redemptions;
using HlmHub.Server.Features.Roster;
using HlmHub.Server.Features.Scheduling;
using HlmHub.Server.Features.Statements;
using HlmHub.Reconciliation;
using HlmHub.Server.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace HlmHub.Server.Features;

/// <summary>
/// The hub's features, each in its own folder. Every feature registers its services and maps its
/// gRPC service here, so Program.cs stays a short list of building blocks.
/// </summary>
internal static class HubFeatures
{
    public static IServiceCollection AddHubFeatures(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        // The hub's own meters (HlmHub.Observability), recorded by roster, eligibility, redemptions and reconciliation.
        services.AddHubMetrics();
        // What each caller holds open per service (Watch streams, redemption streams, reconciliation runs): one
        // counter per service type, each bounded by its feature's named limit.
        services.TryAdd(ServiceDescriptor.Singleton(typeof(CallerSlots<>), typeof(CallerSlots<>)));

        // Roster: landlords' roster sessions (Features/Roster), with their named limits.
        services.AddOptions<RosterOptions>()
            .Bind(configuration.GetSection(RosterOptions.SectionName))
            .ValidateSettings(RosterOptions.SectionName, (check, options) => RosterOptions.Check(check, options, HubHostOptions.MessageSizeIn(configuration)))
            .ValidateOnStart();
        services.TryAddSingleton<RosterSync>();

        // Eligibility: partners' checks and Watch streams (Features/Eligibility), with their named limits.
        services.AddOptions<EligibilityOptions>()
            .Bind(configuration.GetSection(EligibilityOptions.SectionName))
            .ValidateSettings(EligibilityOptions.SectionName, static (check, options) => check
                // A page is read at once, with its households' memberships: a bound on what one poll holds in memory.
                // Its messages fit Hub:MaxMessageSizeBytes whatever its size (EligibilityService splits them).
                .InRange(nameof(options.WatchPageSize), options.WatchPageSize, 1, EligibilityOptions.MaxWatchPageSize)
                .Positive(nameof(options.WatchPollInterval), options.WatchPollInterval)
                .NotNegative(nameof(options.WatchSettleDelay), options.WatchSettleDelay)
                .Positive(nameof(options.MaxWatchStreamsPerPartner), options.MaxWatchStreamsPerPartner))
            .ValidateOnStart();

        // Statements and reconciliation (Features/Statements, src/HlmHub.Reconciliation; docs/reconciliation.md).
        services.AddOptions<StatementOptions>()
            .Bind(configuration.GetSection(StatementOptions.SectionName))
            .ValidateSettings(StatementOptions.SectionName, (check, options) => StatementOptions.Check(check, options, HubHostOptions.MessageSizeIn(configuration)))
            .ValidateOnStart();
        services.AddHlmHubReconciliation();
        // A report is one message: its discrepancies at their longest must fit Hub:MaxMessageSizeBytes. Checked here,
        // beside the engine's own rules (HlmHub.Reconciliation knows nothing of the transport).
        services.AddOptions<ReconciliationOptions>()
            .ValidateSettings(ReconciliationOptions.SectionName, (check, options) => CheckReportSize(check, options, HubHostOptions.MessageSizeIn(configuration)));

        // Redemptions: partners' streams and single events, decided and committed in batches (Features/Redemptions).
        services.AddOptions<RedemptionOptions>()
            .Bind(configuration.GetSection(RedemptionOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedemptionOptions>, RedemptionOptionsValidation>());
        services.TryAddSingleton<RedemptionPipeline>();
        services.AddHostedService(provider => provider.GetRequiredService<RedemptionPipeline>());

        // Scheduling: Quartz on the hub's database and the hub's jobs (Features/Scheduling, Features/Fees).
        services.AddHubScheduling(configuration);

        // Demo: the seeder is always available (for the CLI); --seed-demo runs it once the hub has started.
        services.TryAddSingleton<DemoSeeder>();
        if (configuration.GetValue<bool>(DemoCommandLine.SeedOnStartKey))
        {
            services.AddHostedService<DemoSeedOnStartService>();
        }

        return services;
    }

    /// <summary>
    /// <c>Reconciliation:MaxDiscrepanciesInReport</c> against <c>Hub:MaxMessageSizeBytes</c> (null when that setting
    /// is itself invalid), when the engine's own range (1 to MaxDiscrepanciesRecorded) holds: otherwise
    /// GetReconciliationReport and the end of RunReconciliation would be RESOURCE_EXHAUSTED instead of the report.
    /// </summary>
    private static void CheckReportSize(SettingChecks check, ReconciliationOptions options, int? maxMessageBytes)
    {
        if (maxMessageBytes is not { } max || options.MaxDiscrepanciesInReport <= 0 || options.MaxDiscrepanciesInReport > options.MaxDiscrepanciesRecorded)
        {
            return;
        }

        var fit = ReplyMessageSize.MaxDiscrepancies(max);
        check.Rule(
            options.MaxDiscrepanciesInReport <= fit,
            nameof(options.MaxDiscrepanciesInReport),
            $"must be at most {fit}, the discrepancies at their longest that fit Hub:MaxMessageSizeBytes ({max}) in one report (it is {options.MaxDiscrepanciesInReport})");
    }

    public static IEndpointRouteBuilder MapHubFeatures(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<AdminService>();
        endpoints.MapGrpcService<StatementService>();
        endpoints.MapGrpcService<RosterService>();
        endpoints.MapGrpcService<FederationService>();
        endpoints.MapGrpcService<EligibilityService>();
        endpoints.MapGrpcService<DemoService>();
        endpoints.MapGrpcService<RedemptionService>();
        return endpoints;
    }
}
