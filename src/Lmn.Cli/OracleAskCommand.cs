using Lmn.Language;
using Lmn.Words;
using Lmn.Llm;
using Lmn.Oracles;

namespace Lmn.Cli;

/// <summary>
/// `lmn oracle-ask --oracle NAME [oracle options] --request FILE.json [--events]` (hidden): reads a
/// protocol request (one or a batch; FILE "-" is stdin), asks the oracle, prints the protocol response
/// on stdout. The answers are also checked by the <see cref="AnswerValidator"/> of `lmn run` (the LMN
/// parser and the lexicon; strict mode; --min-confidence applies) and any verdict is written to stderr. Exit status: 0 every answer accepted, 1 an oracle_error, a rejected
/// answer or a runtime fault, 2 bad usage.
/// </summary>
public static class OracleAskCommand
{
    /// <summary>`lmn oracle-ask ARGS` with the environment given (tests: piped human input, keys, fast retries).</summary>
    public static int Execute(string[] args, TextWriter stdout, TextWriter stderr, OracleEnvironment env) =>
        Commands.Execute(["oracle-ask", .. args], new CliContext { Out = stdout, Err = stderr, AskEnvironment = env });

    /// <summary>The command's work once the command line is parsed: args are the oracle options in OracleOptions' syntax.</summary>
    internal static int Run(List<string> args, string? requestFile, bool showEvents, CliContext cli)
    {
        TextWriter stdout = cli.Out, stderr = cli.Err;
        var env = cli.AskEnvironment ?? new OracleEnvironment { HumanOutput = stderr, Log = stderr };
        OracleOptions options;
        try
        {
            options = OracleOptions.Parse(args, out _);
            if (requestFile == null) throw new OracleOptionsException("--request FILE.json is required");
        }
        catch (OracleOptionsException e)
        {
            stderr.WriteLine($"lmn oracle-ask: {e.Message}");
            stderr.WriteLine("run 'lmn oracle-ask --help' for usage");
            return 2;
        }

        IReadOnlyList<OracleRequest> requests;
        try
        {
            string json = requestFile == "-" ? cli.In.ReadToEnd() : File.ReadAllText(requestFile);
            requests = OracleJson.ParseRequests(json);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ProtocolException)
        {
            stderr.WriteLine($"lmn oracle-ask: {requestFile}: {e.Message}");
            return 1;
        }

        if (showEvents) env = env with { Events = OracleEvents.JsonLines(stderr) };
        try
        {
            var oracle = OracleFactory.Create(options, env);
            IReadOnlyList<OracleResult> results;
            try
            {
                results = oracle.AskAsync(requests, cli.Cancellation).GetAwaiter().GetResult();
            }
            finally
            {
                if (oracle is IAsyncDisposable d) d.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            stdout.WriteLine(OracleJson.Serialize(results));

            var validator = new AnswerValidator(new LmnTermChecker(Lexicon.Default)) { MinConfidence = options.MinConfidence };
            var byId = requests.ToDictionary(r => r.AmbNodeId, StringComparer.Ordinal);
            int bad = 0;
            foreach (var r in results)
            {
                switch (r)
                {
                    case OracleError e:
                        bad++;
                        stderr.WriteLine($"lmn oracle-ask: {(byId.TryGetValue(e.AmbNodeId, out var q) ? AnswerValidator.Site(q) : e.AmbNodeId)}: the oracle could not answer ({e.Kind}): {e.Message}");
                        break;
                    case OracleResponse a when byId.TryGetValue(a.AmbNodeId, out var req):
                        var v = validator.Validate(req, a);
                        if (!v.Ok)
                        {
                            bad++;
                            stderr.WriteLine($"lmn oracle-ask: {v.Message}");
                        }
                        break;
                }
            }
            return bad == 0 ? 0 : 1;
        }
        catch (Exception e) when (e is OracleConfigurationException or OracleProcessException)
        {
            stderr.WriteLine($"lmn oracle-ask: {e.Message}");
            return 1;
        }
    }
}
