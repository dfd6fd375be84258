using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace HlmHub.Reconciliation;

/// <summary>Registers the reconciliation engine.</summary>
public static class ReconciliationServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ReconciliationEngine"/> (singleton) and its <see cref="ReconciliationOptions"/> (section
    /// <c>Reconciliation</c>, validated at start-up). Needs the storage registration (AddHlmHubStorage).
    /// </summary>
    public static IServiceCollection AddHlmHubReconciliation(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<ReconciliationOptions>()
            .BindConfiguration(ReconciliationOptions.SectionName)
            .Configure<IConfiguration>((options, configuration) =>
            {
                if (configuration.GetValue<int?>(ReconciliationOptions.PaymentTermSetting) is { } days)
                {
                    options.FeePaymentTermDays = days;
                }
            })
            .Validate(
                options => options.IsValid(),
                "Reconciliation limits: MaxDiscrepanciesRecorded > 0, 0 < MaxDiscrepanciesInReport <= MaxDiscrepanciesRecorded, "
                + "BatchSize 1-100000, Fees:PaymentTermDays 0-366.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ReconciliationEngine>();
        return services;
    }
}
