using HlmHub.Identity.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging;

namespace HlmHub.Identity.Authorization;

/// <summary>
/// Ownership before the first write, enforced: a <c>SaveChanges</c> made while serving an rpc whose
/// <see cref="RpcPolicyAttribute"/> declares an ownership rule fails unless the handler has already proved
/// ownership with <see cref="AuthenticatedCaller.EnsureOwns"/>. The handler cannot forget the check and write
/// anyway; the call fails with INTERNAL and an error log naming the rpc, and nothing is saved.
/// </summary>
internal sealed class OwnershipWriteGuard(IHttpContextAccessor httpContextAccessor, ILogger<OwnershipWriteGuard> logger) : SaveChangesInterceptor
{
    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Verify();
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Verify();
        return ValueTask.FromResult(result);
    }

    private void Verify()
    {
        // Outside an rpc (start-up, scheduled jobs, the demo seeder) there is no caller and nothing to check.
        if (httpContextAccessor.HttpContext?.Features.Get<AuthenticatedCaller>() is { Policy.Ownership: not Ownership.None, OwnershipChecked: false } caller)
        {
            var rpc = httpContextAccessor.HttpContext.Request.Path.Value ?? "";
            IdentityLog.OwnershipNotChecked(logger, rpc, caller.Policy.Ownership);
            throw new InvalidOperationException($"{rpc} tried to write before checking ownership ({caller.Policy.Ownership}): call EnsureOwns first.");
        }
    }
}
