using HlmHub.Scheduling.Tests.Infrastructure;
using HlmHub.Server.Features.Scheduling;
using HlmHub.Storage;
using HlmHub.Storage.Identity;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;

namespace HlmHub.Scheduling.Tests;

/// <summary>Pruning what the OAuth server stores, in-process over a real SQLite file.</summary>
public sealed class PruningTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Pruning_RemovesExpiredAssertionsAndOldDeadTokens_AndKeepsTheRest()
    {
        await using var jobs = await JobServices.CreateAsync(StorageProvider.Sqlite, Now);
        await using (var db = await jobs.Db.CreateDbContextAsync())
        {
            db.ClientAssertionUses.AddRange(
                new ClientAssertionUse { ClientId = "partner-a", Jti = "expired", ExpiresAt = Now.AddMinutes(-1) },
                new ClientAssertionUse { ClientId = "partner-a", Jti = "live", ExpiresAt = Now.AddMinutes(5) });
            await db.SaveChangesAsync();
        }

        // OpenIddict prunes by the real clock: tokens made a month ago and expired, against one still valid.
        var realNow = TimeProvider.System.GetUtcNow();
        string expiredId, validId;
        await using (var scope = jobs.Services.CreateAsyncScope())
        {
            var tokens = scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>();
            expiredId = (await tokens.GetIdAsync(await tokens.CreateAsync(new OpenIddictTokenDescriptor
            {
                CreationDate = realNow.AddDays(-30), ExpirationDate = realNow.AddDays(-29), Status = OpenIddictConstants.Statuses.Valid,
                Subject = "partner-a", Type = OpenIddictConstants.TokenTypeHints.AccessToken,
            })))!;
            validId = (await tokens.GetIdAsync(await tokens.CreateAsync(new OpenIddictTokenDescriptor
            {
                CreationDate = realNow.AddDays(-30), ExpirationDate = realNow.AddDays(30), Status = OpenIddictConstants.Statuses.Valid,
                Subject = "partner-a", Type = OpenIddictConstants.TokenTypeHints.AccessToken,
            })))!;
        }

        var pruning = jobs.Get<OAuthStorePruning>();
        var first = await pruning.PruneAsync(TestTimeouts.Token());
        var second = await pruning.PruneAsync(TestTimeouts.Token());

        Assert.Equal((1L, 1), (first.Tokens, first.Assertions));
        Assert.Equal((0L, 0), (second.Tokens, second.Assertions));
        await using var check = await jobs.Db.CreateDbContextAsync();
        Assert.Equal(["live"], await check.ClientAssertionUses.Select(use => use.Jti).ToListAsync());
        await using var verify = jobs.Services.CreateAsyncScope();
        var manager = verify.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>();
        Assert.Null(await manager.FindByIdAsync(expiredId));
        Assert.NotNull(await manager.FindByIdAsync(validId));
    }
}
