using Lmn.Net;

namespace Lmn.Cli;

/// <summary>`lmn repl [FILE]`: options as for `lmn run FILE.lmn`; FILE is loaded first.</summary>
public static class ReplCommand
{
    public const string Usage = """
        lmn repl [FILE.lmn] [options]
                              an interactive session: each line is compiled and reduced in its own region;
                              `let x = e` and `def` keep their value in the session (docs/repl.md).
                              Options: the oracle options and --context, --context-file, --max-memory,
                              --interpret, -q as for run. Piped input is read line by line.
        """;

    public static int Execute(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var oracle = new ModelBOptions();
        var ctx = new List<KeyValuePair<string, string>>();
        string file = "";
        bool quiet = false, interpret = false;
        long mem = Engine.DefaultMaxMemory;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (oracle.TryParse(args, ref i)) continue;
            switch (a)
            {
                case "-q" or "--quiet": quiet = true; break;
                case "--interpret": interpret = true; break;
                case "--max-memory": mem = Commands.ParseSize(Commands.Next(args, ref i, a)); break;
                case "--context": ctx.Add(Commands.ContextPair(args, ref i, a)); break;
                case "--context-file":
                {
                    string f = Commands.Next(args, ref i, a);
                    if (!File.Exists(f)) throw new Commands.UsageException($"--context-file {f}: no such file");
                    ctx.AddRange(LmnCommands.ReadContextFile(f));
                    break;
                }
                default: Commands.TakeFile(ref file, a); break;
            }
        }
        if (oracle.Inputs != null) throw new Commands.UsageException("repl: --inputs is for batch runs (lmn run FILE --inputs ...)");
        var options = new ReplOptions
        {
            Oracle = oracle, Context = ctx, MaxMemory = mem, FastCalls = !interpret, Quiet = quiet, Load = file == "" ? null : file,
        };
        bool terminal = !Console.IsInputRedirected && ReferenceEquals(stdout, Console.Out);
        var editor = terminal ? new LineEditor(stdout) : null;
        return Repl.RunAsync(Console.In, stdout, stderr, options, editor).GetAwaiter().GetResult();
    }
}
