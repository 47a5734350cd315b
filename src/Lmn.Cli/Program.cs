using Lmn.Cli;

var telemetry = Telemetry.StartIfConfigured();

// The work runs on a thread with a large stack: parsers and printers recurse on deeply nested input.
int code = 0;
// 4 GiB is reserved, not used: pages are touched only as deep nesting needs them.
var thread = new Thread(() => code = Commands.Execute(args, Console.Out, Console.Error), int.MaxValue);
thread.Start();
thread.Join();
// OTLP export (OTEL_EXPORTER_OTLP_ENDPOINT): disposing flushes the spans and metrics of the run.
telemetry?.Dispose();
return code;
