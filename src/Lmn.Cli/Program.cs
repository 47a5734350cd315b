using Lmn.Cli;

StartupTrace.Mark("main");
using var jit = JitTrace.StartIfAsked();
var telemetry = Telemetry.StartIfConfigured();
StartupTrace.Mark("telemetry");

// Ctrl+C and SIGTERM: one token to the engine, the supervisor and the oracles; exit 130 (Interrupts.cs).
using var interrupt = new Interrupts();

StartupTrace.Mark("signals");
// The work runs on a thread with a large stack: parsers and printers recurse on deeply nested input.
int code = 0;
// 4 GiB is reserved, not used: pages are touched only as deep nesting needs them.
var thread = new Thread(() => code = Commands.Execute(args, new CliContext { Cancellation = interrupt.Token }), int.MaxValue);
thread.Start();
thread.Join();
// OTLP export (OTEL_EXPORTER_OTLP_ENDPOINT): disposing flushes the spans and metrics of the run.
telemetry?.Dispose();
StartupTrace.Mark("exit");
StartupTrace.Write();
jit?.Write(Console.Error);
return code;
