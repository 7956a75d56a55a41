using System.Net;
using System.Net.Sockets;

namespace FailureSynth.Hosting;

/// <summary>Chooses free loopback ports and checks fixed ones before anything is started.</summary>
internal static class PortAllocator
{
    /// <summary>
    /// Asks the OS for <paramref name="count"/> free ports, holding each until all are chosen so that
    /// no two endpoints get the same one.
    /// </summary>
    public static IReadOnlyList<int> FreePorts(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
            }
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (TcpListener listener in listeners) listener.Stop();
        }
    }

    public static bool IsFree(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            listener.Stop();
        }
    }
}
