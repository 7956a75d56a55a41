using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FailureSynth.AppHost;

/// <summary>
/// Health checks that speak each server's own protocol on its loopback port, so that <c>WaitFor</c> releases a
/// service only once the server answers (an open port alone is not enough: RabbitMQ and Redis accept connections
/// a moment before they serve them).
/// </summary>
internal static class ProtocolProbe
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public static async Task<HealthCheckResult> RunAsync(int port, Func<NetworkStream, CancellationToken, Task<string?>> exchange, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
            string? problem = await exchange(client.GetStream(), timeout.Token);
            return problem is null ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy(problem);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"127.0.0.1:{port} does not answer yet ({e.GetType().Name}: {e.Message})");
        }
    }

    public static async Task<string> ReadLineAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (await stream.ReadAsync(one, cancellationToken) == 1)
        {
            if (one[0] == '\n') break;
            if (one[0] != '\r') line.Append((char)one[0]);
        }
        return line.ToString();
    }
}

/// <summary>Redis answers <c>AUTH</c> with <c>+OK</c> and <c>PING</c> with <c>+PONG</c>.</summary>
internal sealed class RedisPingHealthCheck(int port, ParameterResource password) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        string secret = await password.GetValueAsync(cancellationToken) ?? "";
        return await ProtocolProbe.RunAsync(port, async (stream, ct) =>
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"AUTH {secret}\r\nPING\r\n"), ct);
            string auth = await ProtocolProbe.ReadLineAsync(stream, ct), ping = await ProtocolProbe.ReadLineAsync(stream, ct);
            return auth == "+OK" && ping == "+PONG" ? null : $"redis-server answered '{auth}' to AUTH and '{ping}' to PING";
        }, cancellationToken);
    }
}

/// <summary>RabbitMQ answers the AMQP 0-9-1 protocol header with a method frame (connection.start).</summary>
internal sealed class AmqpHandshakeHealthCheck(int port) : IHealthCheck
{
    private static readonly byte[] ProtocolHeader = [(byte)'A', (byte)'M', (byte)'Q', (byte)'P', 0, 0, 9, 1];

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        ProtocolProbe.RunAsync(port, async (stream, ct) =>
        {
            await stream.WriteAsync(ProtocolHeader, ct);
            var frame = new byte[7];
            int read = await stream.ReadAtLeastAsync(frame, frame.Length, throwOnEndOfStream: false, ct);
            // Frame type 1 (method) on channel 0: the broker is serving AMQP.
            return read == frame.Length && frame[0] == 1 && frame[1] == 0 && frame[2] == 0 ? null : "the broker did not answer the AMQP protocol header with connection.start";
        }, cancellationToken);
}

/// <summary>epmd answers a NAMES request (length 1, code 110) with its own port number.</summary>
internal sealed class EpmdNamesHealthCheck(int port) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        ProtocolProbe.RunAsync(port, async (stream, ct) =>
        {
            await stream.WriteAsync(new byte[] { 0, 1, 110 }, ct);
            var answer = new byte[4];
            int read = await stream.ReadAtLeastAsync(answer, answer.Length, throwOnEndOfStream: false, ct);
            int reported = read == 4 ? answer[0] << 24 | answer[1] << 16 | answer[2] << 8 | answer[3] : -1;
            return reported == port ? null : $"epmd answered NAMES with port {reported}, expected {port}";
        }, cancellationToken);
}
