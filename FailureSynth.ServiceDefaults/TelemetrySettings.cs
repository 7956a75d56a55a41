using Microsoft.Extensions.Configuration;
using OpenTelemetry.Exporter;

namespace FailureSynth.ServiceDefaults;

/// <summary>
/// Where and as what a service exports its telemetry, read from the standard OpenTelemetry variables
/// that an Aspire AppHost (or ours) injects: <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>,
/// <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, <c>OTEL_SERVICE_NAME</c> and <c>OTEL_RESOURCE_ATTRIBUTES</c>.
/// </summary>
public sealed record TelemetrySettings(
    Uri? OtlpEndpoint,
    OtlpExportProtocol Protocol,
    string ServiceName,
    string? ServiceInstanceId,
    IReadOnlyList<KeyValuePair<string, string>> ResourceAttributes)
{
    public const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string ProtocolVariable = "OTEL_EXPORTER_OTLP_PROTOCOL";
    public const string ServiceNameVariable = "OTEL_SERVICE_NAME";
    public const string ResourceAttributesVariable = "OTEL_RESOURCE_ATTRIBUTES";

    private const string ServiceNameAttribute = "service.name";
    private const string ServiceInstanceIdAttribute = "service.instance.id";

    /// <summary>True when an OTLP endpoint is configured; without one nothing is exported.</summary>
    public bool ExportEnabled => OtlpEndpoint is not null;

    /// <summary>
    /// The URL one signal is sent to. Over HTTP the exporter takes the URL as given when it is set in
    /// code, so the signal path (<c>v1/traces</c>, ...) is appended here as the specification asks
    /// for the base variable; gRPC uses the endpoint itself.
    /// </summary>
    public Uri SignalEndpoint(string signalPath)
    {
        if (OtlpEndpoint is null) throw new InvalidOperationException("No OTLP endpoint is configured.");
        if (Protocol == OtlpExportProtocol.Grpc) return OtlpEndpoint;
        string basePath = OtlpEndpoint.AbsoluteUri.TrimEnd('/');
        return new Uri(basePath + "/" + signalPath.TrimStart('/'));
    }

    /// <summary>
    /// Reads and checks the variables. A value that cannot work fails here, at startup, with a
    /// message naming the variable, instead of telemetry silently going nowhere.
    /// </summary>
    public static TelemetrySettings FromConfiguration(IConfiguration configuration, string defaultServiceName)
    {
        Uri? endpoint = ParseEndpoint(Value(configuration, EndpointVariable));
        OtlpExportProtocol protocol = ParseProtocol(Value(configuration, ProtocolVariable));
        IReadOnlyList<KeyValuePair<string, string>> attributes = ParseResourceAttributes(Value(configuration, ResourceAttributesVariable));

        // OTEL_SERVICE_NAME wins over a service.name in the attributes, as the specification says.
        string serviceName = Value(configuration, ServiceNameVariable)
            ?? attributes.LastOrDefault(a => a.Key == ServiceNameAttribute).Value
            ?? defaultServiceName;
        string? instanceId = attributes.LastOrDefault(a => a.Key == ServiceInstanceIdAttribute).Value;
        var otherAttributes = attributes.Where(a => a.Key is not (ServiceNameAttribute or ServiceInstanceIdAttribute)).ToList();
        return new TelemetrySettings(endpoint, protocol, serviceName, instanceId, otherAttributes);
    }

    private static string? Value(IConfiguration configuration, string name) =>
        configuration[name] is { } value && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

    private static Uri? ParseEndpoint(string? value)
    {
        if (value is null) return null;
        if (!Uri.TryCreate(value, UriKind.Absolute, out Uri? endpoint) || endpoint.Scheme is not ("http" or "https"))
            throw new InvalidOperationException(
                $"{EndpointVariable} is '{value}', which is not an absolute http:// or https:// URL. " +
                $"Set it to the collector's address (for example http://localhost:4317 for gRPC or http://localhost:4318 for HTTP), or unset it to export nothing.");
        return endpoint;
    }

    private static OtlpExportProtocol ParseProtocol(string? value) => value switch
    {
        null or "grpc" => OtlpExportProtocol.Grpc,
        "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
        _ => throw new InvalidOperationException(
            $"{ProtocolVariable} is '{value}', which this service cannot export with. " +
            "Set it to 'grpc' or 'http/protobuf' (http/json is not supported by the .NET exporter), or unset it for grpc."),
    };

    /// <summary>Parses <c>key1=value1,key2=value2</c> with percent-encoded values (the W3C Baggage format the specification uses).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ParseResourceAttributes(string? value)
    {
        var attributes = new List<KeyValuePair<string, string>>();
        if (value is null) return attributes;
        foreach (string rawEntry in value.Split(','))
        {
            string entry = rawEntry.Trim();
            if (entry.Length == 0) continue;
            int equals = entry.IndexOf('=');
            string key = equals < 0 ? "" : entry[..equals].Trim();
            if (equals < 0 || key.Length == 0)
                throw new InvalidOperationException(
                    $"{ResourceAttributesVariable} has the entry '{entry}', which is not key=value. " +
                    "Write it as key1=value1,key2=value2 and percent-encode commas, equals signs and spaces inside values.");
            string decoded;
            try
            {
                decoded = Uri.UnescapeDataString(entry[(equals + 1)..].Trim());
            }
            catch (UriFormatException)
            {
                throw new InvalidOperationException(
                    $"{ResourceAttributesVariable} has the entry '{entry}', whose value is not valid percent-encoding. Encode it again (e.g. a space as %20).");
            }
            attributes.Add(new(key, decoded));
        }
        return attributes;
    }
}
