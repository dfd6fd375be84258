using HlmHub.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace HlmHub.Identity.Tests.Infrastructure;

/// <summary>Brings a test database to the current schema the way the hub does: the provider's generated migrations.</summary>
internal static class TestSchema
{
    public static Task CreateAsync(IServiceProvider services) =>
        services.GetRequiredService<IDatabaseMigrator>().MigrateAsync(CancellationToken.None);
}
