using Lmn.Cli;
using Lmn.Front;

// The lmn front (docs/startup.md): `lmn run` of a .hvm book, or of a .lmn program that needs no oracle SDK,
// runs here (NativeAOT: no runtime host to start, no JIT); any other command line is handed, unchanged, to
// the managed CLI by exec.
StartupTrace.Mark("main");
var run = FrontArgs.Parse(args);
if (run == null) return Handoff.Exec(args);

// Ctrl+C and SIGTERM: one token to the engine, the supervisor and the oracles; exit 130 (Interrupts.cs).
using var interrupt = new Interrupts();
StartupTrace.Mark("signals");

// On a thread with the managed CLI's stack (4 GiB reserved, touched only as deep nesting needs it): how deep a
// program may nest before it is a located error must not depend on which executable ran it.
int code = 0;
var thread = new Thread(() => code = FastRun.Execute(run, interrupt.Token), int.MaxValue);
thread.Start();
thread.Join();
StartupTrace.Mark("exit");
StartupTrace.Write();
return code;
