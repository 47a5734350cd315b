using System.Runtime.InteropServices;
using Lmn.Cli;

StartupTrace.Mark("main");
var telemetry = Telemetry.StartIfConfigured();
StartupTrace.Mark("telemetry");

// Ctrl+C (SIGINT) and SIGTERM cancel one token that reaches the supervisor, the oracles and the engine; the
// command then exits 130 ("lmn: interrupted"). A second Ctrl+C ends the process at once.
using var interrupt = new CancellationTokenSource();
void Interrupt(PosixSignalContext c)
{
    if (interrupt.IsCancellationRequested) return;
    c.Cancel = true;
    interrupt.Cancel();
}
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);

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
return code;
