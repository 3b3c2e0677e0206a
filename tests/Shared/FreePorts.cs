using System.Net;
using System.Net.Sockets;

namespace OrleansOps.Testing;

/// <summary>
/// Loopback ports for the servers a test starts. Port 0 is not enough: the kernel may hand the same ephemeral port to
/// two listeners asked for one after the other (a server's HTTP and silo ports then collide), and an outgoing
/// connection may take a port a restarted server wants back. These come from below Linux's ephemeral range (32768+),
/// are checked free when given, and are never given twice in one test process.
/// </summary>
public static class FreePorts
{
    private const int First = 15000, Last = 32000;
    private static readonly HashSet<int> Given = [];

    public static int Next() => Run(1);

    /// <summary>The first of <paramref name="count"/> consecutive free ports (a local cluster numbers its silos' ports in runs).</summary>
    public static int Run(int count)
    {
        lock (Given)
        {
            for (var attempt = 0; attempt < 500; attempt++)
            {
                var start = Random.Shared.Next(First, Last - count);
                var ports = Enumerable.Range(start, count).ToArray();
                if (!ports.All(port => !Given.Contains(port) && IsFree(port))) continue;
                Given.UnionWith(ports);
                return start;
            }
        }
        throw new InvalidOperationException($"no run of {count} free loopback ports found between {First} and {Last}");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
