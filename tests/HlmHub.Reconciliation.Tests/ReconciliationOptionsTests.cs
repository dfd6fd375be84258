using HlmHub.Reconciliation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HlmHub.Reconciliation.Tests;

/// <summary>The payment term is one setting, <c>Fees:PaymentTermDays</c>, read by the overdue-fees job and by reconciliation alike.</summary>
public sealed class ReconciliationOptionsTests
{
    [Theory]
    [InlineData(null, 30)]
    [InlineData("60", 60)]
    public void ThePaymentTerm_ComesFromFeesPaymentTermDays_AndTheReconciliationSectionCannotSetItApart(string? feesSetting, int expected)
    {
        var settings = new Dictionary<string, string?> { ["Reconciliation:FeePaymentTermDays"] = "10" };
        if (feesSetting is not null)
        {
            settings["Fees:PaymentTermDays"] = feesSetting;
        }

        using var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build())
            .AddHlmHubReconciliation()
            .BuildServiceProvider();

        Assert.Equal(expected, services.GetRequiredService<IOptions<ReconciliationOptions>>().Value.FeePaymentTermDays);
    }
}
