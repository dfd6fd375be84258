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
internal sealed class OwnershipWriteGuard(ILogger<OwnershipWriteGuard> logger) : SaveChangesInterceptor
{
    // The caller of the rpc being served on this flow, for rpcs that declare an ownership rule (set by
    // RpcCallerInterceptor). An AsyncLocal of our own rather than IHttpContextAccessor, which sets one on every
    // request the server takes (gRPC calls that declare no ownership and HTTP requests included) for this one reader.
    // It holds a holder, emptied when the request ends, as ASP.NET Core's accessor does: work that the call started
    // and that outlives it (anything that captured the flow) no longer sees, nor keeps alive, the call's caller.
    private static readonly AsyncLocal<CallerHolder?> Current = new();

    /// <summary>
    /// Guards the writes of the rest of this call (its handler's flow) with <paramref name="caller"/>'s ownership
    /// check, until <paramref name="httpContext"/>'s request ends.
    /// </summary>
    internal static void GuardWritesOf(AuthenticatedCaller caller, HttpContext httpContext)
    {
        var holder = new CallerHolder { Caller = caller };
        Current.Value = holder;
        httpContext.Response.RegisterForDispose(holder);
    }

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
        if (Current.Value?.Caller is { Policy.Ownership: not Ownership.None, OwnershipChecked: false } caller)
        {
            IdentityLog.OwnershipNotChecked(logger, caller.Rpc, caller.Policy.Ownership);
            throw new InvalidOperationException($"{caller.Rpc} tried to write before checking ownership ({caller.Policy.Ownership}): call EnsureOwns first.");
        }
    }

    private sealed class CallerHolder : IDisposable
    {
        public AuthenticatedCaller? Caller { get; set; }

        public void Dispose() => Caller = null;
    }
}
