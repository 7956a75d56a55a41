using System.Net;
using System.Net.Sockets;

namespace FailureSynth.Redis.Tests;

/// <summary>
/// A fake server for what a real Redis never does (break the protocol, send unasked replies):
/// it parses each command with the client's own RESP parser (commands are arrays of bulk
/// strings) and answers with whatever bytes the script gives; a null answer closes the connection.
/// The script gets the command and the index of the connection it came on (0 for the first).
/// </summary>
internal sealed class ScriptedRespServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<string[], int, byte[]?> _script;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly Task _accepting;
    private int _connectionCount;

    public ScriptedRespServer(Func<string[], int, byte[]?> script)
    {
        _script = script;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int ConnectionCount => Volatile.Read(ref _connectionCount);

    public string ConnectionString => $"127.0.0.1:{Port},connectRetry=1";

    /// <summary>The plain answers a handshake without password needs.</summary>
    public static byte[]? Handshake(string[] command) => command[0] == "PING" ? "+PONG\r\n"u8.ToArray() : null;

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        Task[] running;
        lock (_connections) running = [_accepting, .. _connections];
        await Task.WhenAll(running).ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                Socket socket = await _listener.AcceptSocketAsync(_stop.Token);
                int index = Interlocked.Increment(ref _connectionCount) - 1;
                lock (_connections) _connections.Add(ServeAsync(socket, index));
            }
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    private async Task ServeAsync(Socket socket, int index)
    {
        using (socket)
        {
            var parser = new RespParser();
            var commands = new List<RedisResult>();
            byte[] buffer = new byte[4096];
            try
            {
                while (true)
                {
                    int read = await socket.ReceiveAsync(buffer, _stop.Token);
                    if (read == 0) return;
                    commands.Clear();
                    parser.Feed(buffer.AsSpan(0, read), commands);
                    foreach (RedisResult command in commands)
                    {
                        string[] words = [.. command.AsArray()!.Select(word => word.AsString()!)];
                        byte[]? answer = _script(words, index);
                        if (answer is null)
                        {
                            socket.Shutdown(SocketShutdown.Both);
                            return;
                        }
                        await socket.SendAsync(answer, _stop.Token);
                    }
                }
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                // Disposed.
            }
            catch (SocketException)
            {
                // The client closed the connection.
            }
        }
    }
}
