using HlmHub.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace HlmHub.Identity.Tests.Infrastructure;

/// <summary>
/// Creates the schema of a fresh test database. OpenIddict's and Data Protection's tables are in the model but not
/// yet in a generated migration (they arrive with the generated migrations), so the schema is created from the
/// model; switch to <see cref="IDatabaseMigrator"/> once the OpenIddict migration exists.
/// </summary>
internal static class TestSchema
{
    public static async Task CreateAsync(IServiceProvider services)
    {
        var factory = services.GetRequiredService<IDbContextFactory<HlmHubDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        await db.Database.EnsureCreatedAsync();
    }
}
