using System.Net;
using Microsoft.Extensions.Logging;

namespace HlmHub.Identity.Internal;

/// <summary>Audits the denials of one call: client, rpc, reason and time, never the token (at most once a minute per caller: <see cref="DeniedCallLog"/>).</summary>
internal sealed class CallAuditor(ILogger logger, DeniedCallLog deniedCalls, IPAddress? address, string rpc)
{
    /// <summary>The rpc audited (its full method name).</summary>
    public string Rpc => rpc;

    public void Denied(string clientId, string reason) =>
        deniedCalls.Denied(logger, address, rpc, clientId, reason);
}
