using FailureSynth.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using OpenTelemetry.Exporter;

namespace FailureSynth.Hosting.Tests;

/// <summary>Reading the OTEL_* variables: what they mean, and that a bad value fails at startup naming the variable.</summary>
public sealed class TelemetrySettingsTests
{
    private static TelemetrySettings Read(params (string Name, string Value)[] variables) =>
        TelemetrySettings.FromConfiguration(
            new ConfigurationBuilder().AddInMemoryCollection(variables.Select(v => new KeyValuePair<string, string?>(v.Name, v.Value))).Build(),
            defaultServiceName: "FailureSynth.TestService");

    [Fact]
    public void Nothing_is_exported_without_an_endpoint_and_the_application_name_is_the_service_name()
    {
        TelemetrySettings settings = Read();

        Assert.False(settings.ExportEnabled);
        Assert.Equal("FailureSynth.TestService", settings.ServiceName);
        Assert.Equal(OtlpExportProtocol.Grpc, settings.Protocol);
    }

    [Fact]
    public void Http_protobuf_sends_each_signal_to_its_own_path_under_the_endpoint()
    {
        TelemetrySettings settings = Read(
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:18890/otlp/"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_SERVICE_NAME", "teacher"),
            ("OTEL_RESOURCE_ATTRIBUTES", "service.instance.id=teacher-1, deployment.environment=dev%20box,service.name=ignored"));

        Assert.Equal(new Uri("http://localhost:18890/otlp/v1/traces"), settings.SignalEndpoint("v1/traces"));
        Assert.Equal("teacher", settings.ServiceName);
        Assert.Equal("teacher-1", settings.ServiceInstanceId);
        Assert.Equal([new KeyValuePair<string, string>("deployment.environment", "dev box")], settings.ResourceAttributes);
    }

    [Fact]
    public void Grpc_uses_the_endpoint_as_given()
    {
        TelemetrySettings settings = Read(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4317"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"));

        Assert.Equal(new Uri("http://localhost:4317"), settings.SignalEndpoint("v1/traces"));
    }

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "Set it to 'grpc' or 'http/protobuf'")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4317", "not an absolute http:// or https:// URL")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://collector", "not an absolute http:// or https:// URL")]
    [InlineData("OTEL_RESOURCE_ATTRIBUTES", "team=ml,broken", "has the entry 'broken', which is not key=value")]
    [InlineData("OTEL_RESOURCE_ATTRIBUTES", "=value", "has the entry '=value', which is not key=value")]
    public void Unusable_value_fails_naming_the_variable_and_the_fix(string variable, string value, string explanation)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Read((variable, value)));

        Assert.StartsWith(variable, error.Message);
        Assert.Contains(explanation, error.Message);
    }
}
