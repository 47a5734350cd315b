namespace Lmn.Cli;

/// <summary>`lmn repl [FILE]`: options as for `lmn run FILE.lmn` (declared in <see cref="LmnCommandLine"/>); FILE is loaded first.</summary>
public static class ReplCommand
{
    public static int Execute(ReplOptions options, CliContext cli)
    {
        bool terminal = !Console.IsInputRedirected && ReferenceEquals(cli.Out, Console.Out) && ReferenceEquals(cli.In, Console.In);
        var editor = terminal ? new LineEditor(cli.Out) : null;
        return Repl.RunAsync(cli.In, cli.Out, cli.Err, options, editor, cli.Cancellation).GetAwaiter().GetResult();
    }
}
