using Lmn.Cli;
using Lmn.Hvm;
using Lmn.Net;
using Lmn.Runtime;

namespace Lmn.Tests;

/// <summary>Shared helpers: run .hvm text, find the repository, call the CLI in-process.</summary>
public static class TestUtil
{
    /// <summary>An `exec:` oracle (python3): answers each question with its first candidate; with an argument N, hangs on the (N+1)th message.</summary>
    public const string FirstCandidateOracle = """
        import sys, json, time
        hang = int(sys.argv[1]) if len(sys.argv) > 1 else -1
        n = 0
        for line in sys.stdin:
            msg = json.loads(line)
            reqs = [msg["oracle_request"]] if "oracle_request" in msg else msg["parallel_requests"]
            n += 1
            if hang >= 0 and n > hang:
                time.sleep(3600)
            out = [{"oracle_response": {"amb_node_id": r["amb_node_id"], "substitution": r["args"][0], "metadata": {"confidence": 1}}} for r in reqs]
            print(json.dumps(out[0] if len(out) == 1 else {"parallel_responses": out}), flush=True)
        """;

    public static string RepoRoot { get; } = FindRoot();

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Lmn.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    /// <summary>Parses and runs a book (no IO loop); returns the printed result and the interaction count.</summary>
    public static (string Result, long Itrs) Run(string hvm, long maxMemory = 64L << 20, bool fastCalls = true)
    {
        var ast = HvmParser.Parse("test.hvm", hvm);
        var outcome = HvmRunner.Run(ast, maxMemory, io: null, fastCalls);
        if (outcome.Error != null) throw new InvalidOperationException(outcome.Error);
        return (outcome.Output, outcome.Interactions);
    }

    /// <summary>Runs the CLI in-process and captures its output.</summary>
    public static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Commands.Execute(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>Writes text to a fresh temporary file with the given extension.</summary>
    public static string TempFile(string text, string ext = ".hvm")
    {
        string path = Path.Combine(Path.GetTempPath(), "lmn-test-" + Guid.NewGuid().ToString("N") + ext);
        File.WriteAllText(path, text);
        return path;
    }
}
