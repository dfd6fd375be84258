using System.Net;
using System.Net.Sockets;

namespace HlmHub.TestSupport;

/// <summary>
/// Loopback ports chosen by the system as free, then released. Between that release and the moment a caller binds one,
/// another process (a parallel test choosing its own) may take it: <see cref="HubProcess"/> starts the hub again on
/// fresh ports when that happens; an in-process host given such a port fails its start instead.
/// </summary>
public static class LoopbackPorts
{
    /// <summary>A loopback port nothing listened on when it was chosen: one to bind soon, or a closed port to be refused by.</summary>
    public static int Free() => Free(1)[0];

    /// <summary>
    /// <paramref name="count"/> distinct free loopback ports: each stays bound until all are chosen, because the system
    /// may hand a released port out again at once.
    /// </summary>
    public static int[] Free(int count)
    {
        var listeners = new List<TcpListener>(count);
        try
        {
            for (var index = 0; index < count; index++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listeners.Add(listener);
                listener.Start();
            }

            return [.. listeners.Select(listener => ((IPEndPoint)listener.LocalEndpoint).Port)];
        }
        finally
        {
            listeners.ForEach(listener => listener.Dispose());
        }
    }
}
