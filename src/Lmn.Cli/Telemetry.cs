using System.Runtime.CompilerServices;

namespace Lmn.Cli;

/// <summary>
/// Turns OTLP export on when OTEL_EXPORTER_OTLP_ENDPOINT (or the traces/metrics endpoint) is set, and does
/// nothing otherwise. Off costs one environment lookup: the OpenTelemetry assemblies are only loaded by
/// <see cref="StartSdk"/>, which the JIT compiles only when it is called.
/// </summary>
public static class Telemetry
{
    public static IDisposable? StartIfConfigured()
    {
        if (!Configured(Environment.GetEnvironmentVariable)) return null;
        return StartSdk();
    }

    /// <summary>Any of the standard OTLP endpoint variables is set (and OTEL_SDK_DISABLED is not true).</summary>
    public static bool Configured(Func<string, string?> env) =>
        !string.Equals(env("OTEL_SDK_DISABLED"), "true", StringComparison.OrdinalIgnoreCase)
        && (!string.IsNullOrWhiteSpace(env("OTEL_EXPORTER_OTLP_ENDPOINT"))
            || !string.IsNullOrWhiteSpace(env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
            || !string.IsNullOrWhiteSpace(env("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IDisposable StartSdk() =>
        Lmn.Telemetry.OtlpExport.Start(typeof(Telemetry).Assembly.GetName().Version?.ToString() ?? "0");
}
