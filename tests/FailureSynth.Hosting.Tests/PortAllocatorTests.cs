namespace FailureSynth.Hosting.Tests;

/// <summary>Ports promised to services stay clear of the ones the broker and the cache get from the OS.</summary>
public class PortAllocatorTests
{
    [Fact]
    public void Free_ports_are_distinct_free_and_below_the_ephemeral_range()
    {
        var ports = PortAllocator.FreePorts(6);

        Assert.Equal(6, ports.Distinct().Count());
        Assert.All(ports, p => Assert.True(PortAllocator.IsFree(p), $"port {p} is in use"));
        string range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range");
        int ephemeralLow = int.Parse(range.Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries)[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.All(ports, p => Assert.InRange(p, 10000, ephemeralLow - 1));
    }
}
