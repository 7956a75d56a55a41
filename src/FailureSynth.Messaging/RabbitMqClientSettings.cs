namespace FailureSynth.Messaging;

/// <summary>How a service connects to RabbitMQ; the connection string normally comes from <c>ConnectionStrings:{ConnectionName}</c>.</summary>
public sealed class RabbitMqClientSettings
{
    /// <summary>Key under <c>ConnectionStrings</c> (Aspire's resource name); <c>messaging</c> in FailureSynth.</summary>
    public string ConnectionName { get; set; } = "messaging";

    /// <summary><c>amqp://user:pass@host:port</c>; read from configuration when null.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>How long the first connection keeps retrying (exponential backoff) before start-up fails.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Pause between automatic recovery attempts after a lost connection.</summary>
    public TimeSpan NetworkRecoveryInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Shown in the broker's connection list; the application name by default.</summary>
    public string? ClientProvidedName { get; set; }
}

/// <summary>Reads and checks <c>amqp://user:pass@host:port[/vhost]</c> connection strings without ever echoing the password.</summary>
public static class AmqpConnectionString
{
    public static Uri Parse(string connectionName, string? value)
    {
        string key = $"ConnectionStrings:{connectionName}";
        if (string.IsNullOrWhiteSpace(value))
            throw new MessagingConfigurationException(
                $"{key} is not set. Set it to amqp://user:pass@host:port (environment variable ConnectionStrings__{connectionName}); the AppHost sets it for services that reference the broker.");
        if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out Uri? uri))
            throw new MessagingConfigurationException($"{key} is not a valid URI; expected amqp://user:pass@host:port.");
        if (uri.Scheme is not ("amqp" or "amqps"))
            throw new MessagingConfigurationException($"{key} has the scheme '{uri.Scheme}'; expected amqp://user:pass@host:port (or amqps:// for TLS).");
        if (string.IsNullOrEmpty(uri.Host))
            throw new MessagingConfigurationException($"{key} names no host; expected amqp://user:pass@host:port.");
        if (uri.UserInfo.Length > 0 && !uri.UserInfo.Contains(':'))
            throw new MessagingConfigurationException($"{key} gives a user but no password; expected amqp://user:pass@host:port.");
        return uri;
    }

    /// <summary>The URI with the password replaced, for logs and error messages.</summary>
    public static string Redact(Uri uri)
    {
        string user = uri.UserInfo.Split(':')[0];
        string credentials = user.Length > 0 ? $"{user}:***@" : "";
        return $"{uri.Scheme}://{credentials}{uri.Authority}{uri.AbsolutePath.TrimEnd('/')}";
    }
}

/// <summary>The messaging configuration cannot work (missing or malformed setting); retrying will not help.</summary>
public sealed class MessagingConfigurationException(string message) : InvalidOperationException(message);
