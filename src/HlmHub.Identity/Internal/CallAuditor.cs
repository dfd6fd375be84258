using Microsoft.Extensions.Logging;

namespace HlmHub.Identity.Internal;

/// <summary>Audits the denials of one call: client, rpc, reason and time, never the token.</summary>
internal sealed class CallAuditor(ILogger logger, TimeProvider timeProvider, string rpc)
{
    /// <summary>The rpc audited (its full method name).</summary>
    public string Rpc => rpc;

    public void Denied(string clientId, string reason) =>
        IdentityLog.RpcDenied(logger, rpc, clientId, reason, timeProvider.GetUtcNow());
}
