using Lmn.Llm;
using Lmn.Oracles;

namespace Lmn.Cli;

/// <summary>
/// `lmn oracle-ask --oracle NAME [oracle options] --request FILE.json [--events]` (hidden): reads a
/// protocol request (one or a batch; FILE "-" is stdin), asks the oracle, prints the protocol response
/// on stdout. The answers are also checked with the ChoiceValidator (--min-confidence applies) and any
/// verdict is written to stderr. Exit status: 0 every answer accepted, 1 an oracle_error, a rejected
/// answer or a runtime fault, 2 bad usage.
/// </summary>
public static class OracleAskCommand
{
    public const string Usage = """
        usage: lmn oracle-ask --oracle NAME --request FILE.json [--events] [oracle options]

        Asks one oracle the request(s) in FILE.json ('-' for stdin) and prints the protocol response.
          --events            write every attempt, retry and error to stderr as JSON lines
        """;

    public static int Execute(string[] args, TextWriter stdout, TextWriter stderr) =>
        Execute(args, stdout, stderr, new OracleEnvironment { HumanOutput = stderr, Log = stderr });

    /// <summary>The same with the environment given (tests: piped human input, keys, fast retries).</summary>
    public static int Execute(string[] args, TextWriter stdout, TextWriter stderr, OracleEnvironment env)
    {
        OracleOptions options;
        string? requestFile = null;
        bool showEvents = false;
        try
        {
            options = OracleOptions.Parse(args, out var rest);
            for (int i = 0; i < rest.Count; i++)
            {
                switch (rest[i])
                {
                    case "--request":
                        requestFile = i + 1 < rest.Count ? rest[++i] : throw new OracleOptionsException("--request needs a file");
                        break;
                    case "--events":
                        showEvents = true;
                        break;
                    case "-h" or "--help":
                        stdout.WriteLine(Usage);
                        stdout.WriteLine(OracleOptions.Help);
                        return 0;
                    default:
                        throw new OracleOptionsException($"unknown option '{rest[i]}'");
                }
            }
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
            string json = requestFile == "-" ? Console.In.ReadToEnd() : File.ReadAllText(requestFile);
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
                results = oracle.AskAsync(requests, CancellationToken.None).GetAwaiter().GetResult();
            }
            finally
            {
                if (oracle is IAsyncDisposable d) d.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            stdout.WriteLine(OracleJson.Serialize(results));

            var validator = new ChoiceValidator { MinConfidence = options.MinConfidence };
            var byId = requests.ToDictionary(r => r.AmbNodeId, StringComparer.Ordinal);
            int bad = 0;
            foreach (var r in results)
            {
                switch (r)
                {
                    case OracleError e:
                        bad++;
                        stderr.WriteLine($"lmn oracle-ask: {(byId.TryGetValue(e.AmbNodeId, out var q) ? ChoiceValidator.Site(q) : e.AmbNodeId)}: the oracle could not answer ({e.Kind}): {e.Message}");
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
