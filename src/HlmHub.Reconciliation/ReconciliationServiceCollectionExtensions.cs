using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

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
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReconciliationOptions>, ReconciliationOptionsValidation>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ReconciliationEngine>();
        return services;
    }
}
