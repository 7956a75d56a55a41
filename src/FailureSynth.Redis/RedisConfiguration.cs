using System.Globalization;
using System.Text;

namespace FailureSynth.Redis;

/// <summary>
/// Where and how to connect, read from a StackExchange.Redis-style connection string such as
/// <c>127.0.0.1:6379,password=…,connectTimeout=5000,syncTimeout=5000,abortConnect=false</c>
/// (the form Aspire injects as <c>ConnectionStrings__cache</c>).
/// </summary>
public sealed record RedisConfiguration
{
    public const int DefaultPort = 6379;

    private static readonly string[] s_knownOptions =
        ["password", "user", "connectTimeout", "syncTimeout", "asyncTimeout", "abortConnect", "connectRetry", "defaultDatabase", "name", "ssl"];

    public required string Host { get; init; }

    public int Port { get; init; } = DefaultPort;

    /// <summary>The ACL user name; null authenticates as the default user.</summary>
    public string? User { get; init; }

    public string? Password { get; init; }

    /// <summary>How long opening the socket and authenticating may take (connectTimeout, default 5 s).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a command may wait for its reply, sending included (syncTimeout, or asyncTimeout when given; default 5 s).</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>When true (the default, as in StackExchange.Redis) ConnectAsync fails when the first connect attempts fail.</summary>
    public bool AbortConnect { get; init; } = true;

    /// <summary>How many connect attempts ConnectAsync makes before giving up (connectRetry, default 3).</summary>
    public int ConnectRetry { get; init; } = 3;

    /// <summary>The database index SELECTed on every connect (defaultDatabase, default 0).</summary>
    public int DefaultDatabase { get; init; }

    /// <summary>The name set with CLIENT SETNAME on every connect (name), shown by CLIENT LIST.</summary>
    public string? ClientName { get; init; }

    /// <summary>host:port, with brackets around an IPv6 address.</summary>
    public string Endpoint => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>Reads a connection string; every problem is reported with the part that caused it.</summary>
    /// <exception cref="ArgumentException">The connection string is malformed or names an unknown option.</exception>
    public static RedisConfiguration Parse(string configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        string? host = null;
        int port = DefaultPort;
        string? user = null, password = null, clientName = null;
        int connectTimeout = 5000, syncTimeout = 5000, connectRetry = 3, database = 0;
        int? asyncTimeout = null;
        bool abortConnect = true;

        foreach (string rawPart in configuration.Split(','))
        {
            string part = rawPart.Trim();
            if (part.Length == 0) continue;
            int equals = part.IndexOf('=');
            if (equals < 0)
            {
                if (host is not null)
                    throw Problem(configuration, $"it names a second endpoint '{part}' after '{host}'; this client connects to one Redis server, so give exactly one host:port");
                (host, port) = ParseEndpoint(configuration, part);
                continue;
            }
            string key = part[..equals].Trim();
            string value = part[(equals + 1)..].Trim();
            switch (key.ToLowerInvariant())
            {
                case "password": password = value.Length == 0 ? null : value; break;
                case "user": user = value.Length == 0 ? null : value; break;
                case "name": clientName = value.Length == 0 ? null : value; break;
                case "connecttimeout": connectTimeout = ParseInt(configuration, key, value, min: 1); break;
                case "synctimeout": syncTimeout = ParseInt(configuration, key, value, min: 1); break;
                case "asynctimeout": asyncTimeout = ParseInt(configuration, key, value, min: 1); break;
                case "connectretry": connectRetry = ParseInt(configuration, key, value, min: 1); break;
                case "defaultdatabase": database = ParseInt(configuration, key, value, min: 0); break;
                case "abortconnect": abortConnect = ParseBool(configuration, key, value); break;
                case "ssl":
                    if (ParseBool(configuration, key, value))
                        throw Problem(configuration, "ssl=true asks for TLS, which this client does not speak; use a Redis endpoint without TLS (the local redis-server) or drop ssl=true");
                    break;
                default:
                    throw Problem(configuration, $"the option '{key}' is not one this client knows; known options: {string.Join(", ", s_knownOptions)}");
            }
        }
        if (host is null)
            throw Problem(configuration, "it names no endpoint; start it with host:port, e.g. 127.0.0.1:6379");
        if (user is not null && password is null)
            throw Problem(configuration, "it gives user= without password=; Redis authenticates a user with a password, so add password=…");

        return new RedisConfiguration
        {
            Host = host,
            Port = port,
            User = user,
            Password = password,
            ClientName = clientName,
            ConnectTimeout = TimeSpan.FromMilliseconds(connectTimeout),
            CommandTimeout = TimeSpan.FromMilliseconds(asyncTimeout ?? syncTimeout),
            AbortConnect = abortConnect,
            ConnectRetry = connectRetry,
            DefaultDatabase = database,
        };
    }

    /// <summary>The configuration as a connection string, with the password hidden.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(Endpoint);
        if (User is not null) text.Append(",user=").Append(User);
        if (Password is not null) text.Append(",password=*****");
        if (ClientName is not null) text.Append(",name=").Append(ClientName);
        text.Append(CultureInfo.InvariantCulture, $",connectTimeout={(int)ConnectTimeout.TotalMilliseconds}");
        text.Append(CultureInfo.InvariantCulture, $",syncTimeout={(int)CommandTimeout.TotalMilliseconds}");
        text.Append(",abortConnect=").Append(AbortConnect ? "true" : "false");
        text.Append(CultureInfo.InvariantCulture, $",connectRetry={ConnectRetry}");
        if (DefaultDatabase != 0) text.Append(CultureInfo.InvariantCulture, $",defaultDatabase={DefaultDatabase}");
        return text.ToString();
    }

    private static (string Host, int Port) ParseEndpoint(string configuration, string endpoint)
    {
        string host = endpoint;
        string? portText = null;
        if (endpoint.StartsWith('['))
        {
            int close = endpoint.IndexOf(']');
            if (close < 0 || (close + 1 < endpoint.Length && endpoint[close + 1] != ':'))
                throw Problem(configuration, $"the endpoint '{endpoint}' is not [IPv6-address]:port");
            host = endpoint[1..close];
            if (close + 1 < endpoint.Length) portText = endpoint[(close + 2)..];
        }
        else
        {
            int colon = endpoint.LastIndexOf(':');
            if (colon >= 0 && endpoint.IndexOf(':') != colon)
                throw Problem(configuration, $"the endpoint '{endpoint}' has several colons; write an IPv6 address in brackets, e.g. [::1]:6379");
            if (colon >= 0)
            {
                host = endpoint[..colon];
                portText = endpoint[(colon + 1)..];
            }
        }
        if (host.Length == 0 || host.AsSpan().ContainsAny(" \t"))
            throw Problem(configuration, $"the endpoint '{endpoint}' has no usable host name; write host:port, e.g. 127.0.0.1:6379");
        int port = DefaultPort;
        if (portText is not null && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
            throw Problem(configuration, $"the port '{portText}' in endpoint '{endpoint}' is not a number from 1 to 65535");
        return (host, port);
    }

    private static int ParseInt(string configuration, string key, string value, int min)
    {
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int result) && result >= min)
            return result;
        throw Problem(configuration, $"{key}='{value}' is not a whole number of at least {min}");
    }

    private static bool ParseBool(string configuration, string key, string value)
    {
        if (bool.TryParse(value, out bool result)) return result;
        throw Problem(configuration, $"{key}='{value}' is neither true nor false");
    }

    private static ArgumentException Problem(string configuration, string problem) =>
        new($"The Redis connection string '{Redact(configuration)}' is not valid: {problem}.", nameof(configuration));

    // Error messages end up in logs; the password must not.
    private static string Redact(string configuration) => string.Join(',', configuration.Split(',').Select(part =>
    {
        int equals = part.IndexOf('=');
        return equals >= 0 && part[..equals].Trim().Equals("password", StringComparison.OrdinalIgnoreCase)
            ? part[..(equals + 1)] + "*****"
            : part;
    }));
}
