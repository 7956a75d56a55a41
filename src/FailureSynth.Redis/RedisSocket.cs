using System.Net.Sockets;

namespace FailureSynth.Redis;

/// <summary>
/// One TCP connection to the server, authenticated and ready for commands: opening it sends AUTH,
/// SELECT, CLIENT SETNAME and PING as the configuration asks and checks every answer, so that
/// both the command connection and the pub/sub connection start from the same known state.
/// </summary>
internal sealed class RedisSocket : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly RespParser _parser = new();
    private readonly byte[] _readBuffer = new byte[64 * 1024];

    private RedisSocket(Socket socket, string endpoint)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        Endpoint = endpoint;
    }

    public string Endpoint { get; }

    /// <summary>Connects and authenticates within the configuration's connect timeout.</summary>
    /// <exception cref="RedisConnectionException">Connecting or the handshake failed; <see cref="RedisAuthenticationException"/> for credentials.</exception>
    public static async Task<RedisSocket> OpenAsync(RedisConfiguration configuration, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(configuration.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        RedisSocket? connection = null;
        try
        {
            await socket.ConnectAsync(configuration.Host, configuration.Port, deadline.Token).ConfigureAwait(false);
            connection = new RedisSocket(socket, configuration.Endpoint);
            await connection.HandshakeAsync(configuration, deadline.Token).ConfigureAwait(false);
            return connection;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Close();
            throw new RedisConnectionException(
                $"Could not connect to Redis at {configuration.Endpoint} within {(int)configuration.ConnectTimeout.TotalMilliseconds} ms (connectTimeout). Check that redis-server is running there, or raise connectTimeout.");
        }
        catch (SocketException e)
        {
            Close();
            throw new RedisConnectionException(
                $"Could not connect to Redis at {configuration.Endpoint}: {e.Message}. Check that redis-server is running and that host:port in the connection string is right.", e);
        }
        catch (RedisProtocolException e)
        {
            Close();
            throw new RedisConnectionException($"The server at {configuration.Endpoint} does not speak RESP2 as Redis does: {e.Message} Check that the connection string points at a Redis server.", e);
        }
        catch (IOException e)
        {
            Close();
            throw new RedisConnectionException($"Redis at {configuration.Endpoint} dropped the connection during the handshake: {e.Message}", e);
        }
        catch
        {
            Close();
            throw;
        }

        void Close()
        {
            if (connection is not null) connection.Dispose();
            else socket.Dispose();
        }
    }

    /// <summary>Writes bytes to the server, all of them or an exception.</summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken) =>
        _stream.WriteAsync(bytes, cancellationToken);

    /// <summary>
    /// Reads what the server sent next and adds the replies it completes (possibly none);
    /// false when the server closed the connection.
    /// </summary>
    /// <exception cref="RedisProtocolException">The bytes break RESP2.</exception>
    public async ValueTask<bool> ReadAsync(List<RedisResult> replies, CancellationToken cancellationToken)
    {
        int read = await _stream.ReadAsync(_readBuffer, cancellationToken).ConfigureAwait(false);
        if (read == 0) return false;
        _parser.Feed(_readBuffer.AsSpan(0, read), replies);
        return true;
    }

    /// <summary>Closes the socket, which also ends any read or write in progress.</summary>
    public void Dispose() => _stream.Dispose();

    private async Task HandshakeAsync(RedisConfiguration configuration, CancellationToken cancellationToken)
    {
        var steps = new List<(string Name, byte[] Bytes)>();
        if (configuration.Password is not null)
        {
            object[] credentials = configuration.User is null ? [configuration.Password] : [configuration.User, configuration.Password];
            steps.Add(("AUTH", RespCommandEncoder.Encode("AUTH", credentials)));
        }
        if (configuration.DefaultDatabase != 0)
            steps.Add(("SELECT", RespCommandEncoder.Encode("SELECT", [configuration.DefaultDatabase])));
        if (configuration.ClientName is not null)
            steps.Add(("CLIENT SETNAME", RespCommandEncoder.Encode("CLIENT", ["SETNAME", configuration.ClientName])));
        // PING last: it proves the server answers, and without a password it reveals NOAUTH.
        steps.Add(("PING", RespCommandEncoder.Encode("PING", [])));

        await _stream.WriteAsync(steps.SelectMany(s => s.Bytes).ToArray(), cancellationToken).ConfigureAwait(false);

        var replies = new List<RedisResult>();
        while (replies.Count < steps.Count)
        {
            if (!await ReadAsync(replies, cancellationToken).ConfigureAwait(false))
                throw new RedisConnectionException(
                    $"Redis at {Endpoint} closed the connection during the handshake (after {replies.Count} of {steps.Count} replies). The server may be shutting down or refusing clients (maxclients); see its log.");
        }
        if (replies.Count > steps.Count || !_parser.IsBetweenReplies)
            throw new RedisProtocolException($"Redis at {Endpoint} sent more during the handshake than the {steps.Count} replies asked for.");

        for (int i = 0; i < steps.Count; i++)
            CheckHandshakeReply(configuration, steps[i].Name, replies[i]);
    }

    private void CheckHandshakeReply(RedisConfiguration configuration, string step, RedisResult reply)
    {
        string expected = step == "PING" ? "PONG" : "OK";
        if (reply.Type == RedisResultType.SimpleString && reply.AsString() == expected) return;
        if (reply.Type != RedisResultType.Error)
            throw new RedisProtocolException($"Redis at {Endpoint} answered {step} with {reply} instead of +{expected}.");

        string message = reply.AsString() ?? "";
        throw step switch
        {
            "AUTH" when message.Contains("without any password configured", StringComparison.OrdinalIgnoreCase) =>
                new RedisAuthenticationException(
                    $"Redis at {Endpoint} has no password set, but the connection string gives one (server said: {message}). Remove password= from the connection string, or set requirepass on the server.",
                    message),
            "AUTH" => new RedisAuthenticationException(
                $"Redis at {Endpoint} rejected the credentials in the connection string (server said: {message}). Check password={(configuration.User is null ? "" : " and user=")} in the connection string.",
                message),
            "PING" when message.StartsWith("NOAUTH", StringComparison.Ordinal) =>
                new RedisAuthenticationException(
                    $"Redis at {Endpoint} requires a password and the connection string has none (server said: {message}). Add password=… to the connection string.",
                    message),
            "SELECT" => new RedisConnectionException(
                $"Redis at {Endpoint} refused defaultDatabase={configuration.DefaultDatabase} (server said: {message}). Use a database index the server has (0-15 unless its 'databases' setting says otherwise)."),
            "CLIENT SETNAME" => new RedisConnectionException(
                $"Redis at {Endpoint} refused the client name '{configuration.ClientName}' (server said: {message}). Use a name without spaces or newlines."),
            _ => new RedisConnectionException($"Redis at {Endpoint} answered {step} with an error: {message}"),
        };
    }
}
