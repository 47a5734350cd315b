namespace Lmn.Cli;

/// <summary>`lmn bench`: placeholder until the benchmark runner lands.</summary>
public static class Bench
{
    public static int Execute(string[] args, TextWriter stdout, TextWriter stderr)
    {
        stderr.WriteLine("lmn bench: not available yet");
        return 1;
    }
}
