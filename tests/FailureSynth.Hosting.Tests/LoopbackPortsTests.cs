using FailureSynth.Hosting.Network;

namespace FailureSynth.Hosting.Tests;

/// <summary>Ports chosen for services, the broker and the cache stay clear of those the OS hands out on its own.</summary>
public class LoopbackPortsTests
{
    [Fact]
    public void Free_ports_are_distinct_free_and_below_the_ephemeral_range()
    {
        var ports = LoopbackPorts.FreePorts(6);

        Assert.Equal(6, ports.Distinct().Count());
        Assert.All(ports, p => Assert.True(LoopbackPorts.IsFree(p), $"port {p} is in use"));
        string range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range");
        int ephemeralLow = int.Parse(range.Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries)[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.All(ports, p => Assert.InRange(p, 10000, ephemeralLow - 1));
        Assert.Equal(ephemeralLow, LoopbackPorts.EphemeralRangeStart());
    }
}
