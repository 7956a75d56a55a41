using System.Net;
using System.Net.Sockets;

namespace FailureSynth.Hosting.Network;

/// <summary>
/// Chooses free loopback ports for the processes the AppHost starts (services, Redis, RabbitMQ) and checks fixed
/// ones before anything is started.
/// </summary>
public static class LoopbackPorts
{
    /// <summary>Lowest port handed out from below the OS's ephemeral range.</summary>
    private const int LowestPort = 10000;

    /// <summary>
    /// Chooses <paramref name="count"/> free ports, holding each until all are chosen so that no two endpoints
    /// get the same one. They come from below the OS's ephemeral range (Linux: <c>ip_local_port_range</c>,
    /// usually 32768-60999), starting at a random point: a port is released between this choice and the moment
    /// the process it was chosen for binds it, and in that window the OS hands ephemeral ports to every outgoing
    /// connection and every bind to port 0 on the machine (a test's client, another server), never ports below
    /// the range. Where the range is unknown or leaves no room below it, the OS chooses.
    /// </summary>
    public static IReadOnlyList<int> FreePorts(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            int ephemeralLow = EphemeralRangeStart();
            if (ephemeralLow - LowestPort >= 1000)
            {
                int span = ephemeralLow - LowestPort;
                int start = Random.Shared.Next(span);
                for (int i = 0; i < span && listeners.Count < count; i++)
                {
                    var listener = new TcpListener(IPAddress.Loopback, LowestPort + (start + i) % span);
                    try
                    {
                        listener.Start();
                        listeners.Add(listener);
                    }
                    catch (SocketException)
                    {
                        listener.Stop();
                    }
                }
            }
            while (listeners.Count < count)
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

    /// <summary>First port of the OS's ephemeral range, or 0 where it cannot be read.</summary>
    public static int EphemeralRangeStart()
    {
        try
        {
            string text = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range");
            string first = text.Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
            return int.TryParse(first, out int low) && low is > 0 and <= 65535 ? low : 0;
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>One free port (see <see cref="FreePorts"/>).</summary>
    public static int FreePort() => FreePorts(1)[0];

    /// <summary>Whether <paramref name="port"/> can be bound on the loopback interface now.</summary>
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
