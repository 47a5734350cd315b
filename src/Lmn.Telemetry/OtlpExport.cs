using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Lmn.Telemetry;

/// <summary>
/// OpenTelemetry export over OTLP (docs/oracles/observability.md): the spans and metrics the library
/// writes through System.Diagnostics (source and meter "Lmn.Oracles": a span per supervisor round, per
/// oracle call and per chat call inside it, with the GenAI attribute names; the gen_ai.client.* and
/// lmn.oracle.* instruments) go to the collector the standard variables name. The SDK reads
/// OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL (grpc or http/protobuf),
/// OTEL_EXPORTER_OTLP_HEADERS and OTEL_SERVICE_NAME itself.
/// </summary>
public sealed class OtlpExport : IDisposable
{
    /// <summary>Span sources exported: the library's, and the provider calls of the LLM backend's OpenTelemetry stage (Microsoft.Extensions.AI).</summary>
    public static readonly string[] Sources = [Lmn.Oracles.OracleTelemetry.Name, "Experimental.Microsoft.Extensions.AI"];

    /// <summary>
    /// Meters exported: the library's only. Microsoft.Extensions.AI's stage records gen_ai.client.token.usage
    /// and gen_ai.client.operation.duration for the same calls; exporting both would count every call twice.
    /// </summary>
    public static readonly string[] Meters = [Lmn.Oracles.OracleTelemetry.Name];

    private readonly TracerProvider _tracer;
    private readonly MeterProvider _meter;

    private OtlpExport(TracerProvider tracer, MeterProvider meter)
    {
        _tracer = tracer;
        _meter = meter;
    }

    /// <summary>The service name when OTEL_SERVICE_NAME is not set.</summary>
    public const string DefaultServiceName = "lmn";

    /// <summary>Starts exporting; dispose to flush what is buffered (the CLI does at exit).</summary>
    public static OtlpExport Start(string version)
    {
        // The SDK's resource detector reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; the default
        // name only applies when neither names the service.
        var resource = ResourceBuilder.CreateDefault().AddService(DefaultServiceName, serviceVersion: version).AddEnvironmentVariableDetector();
        var tracer = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource(Sources)
            .AddOtlpExporter()
            .Build()!;
        var meter = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(Meters)
            .AddOtlpExporter()
            .Build()!;
        return new OtlpExport(tracer, meter);
    }

    public void Dispose()
    {
        // Dispose flushes: the batch of spans still queued and a last collection of every metric.
        _tracer.Dispose();
        _meter.Dispose();
    }
}
