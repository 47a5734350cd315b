using Lmn.Cli;

BenchHooks.Transmigrate = Lmn.Regions.TransmigrateBenchmark.Run;

// The work runs on a thread with a large stack: parsers and printers recurse on deeply nested input.
int code = 0;
var thread = new Thread(() => code = Commands.Execute(args, Console.Out, Console.Error), 1 << 29);
thread.Start();
thread.Join();
return code;
