using System.Diagnostics;
using System.Globalization;
using Lmn.Language;
using Lmn.Oracles;
using Lmn.Runtime;
using Lmn.Text;
using Lmn.Words;

namespace Lmn.Cli;

/// <summary>
/// `lmn bench oracle [--sites N] [--delay-ms D] [--runs R]`: a program with N independent `∿` sites,
/// answered by an instant oracle (the runtime's own cost per site, oracle time excluded) or by one that
/// takes D ms per call (how much oracle wait the batching leaves).
/// </summary>
public static class OracleBench
{
    public static int Execute(int sites, int delay, int runs, TextWriter stdout, TextWriter stderr)
    {
        // Each site has its own candidates, so no two questions are the same.
        string program = $"def go(n) = match n {{ 0 => []; 1+p => [∿lov[joy, p], ...go(p)] }}\ngo({sites})\n";
        var diags = new List<Diagnostic>();
        var prog = LmnDriver.Compile(new SourceText("bench.lmn", program), diags);
        if (prog == null)
        {
            stderr.WriteLine(diags.First().Render());
            return 1;
        }
        var overheads = new List<double>();
        var waits = new List<double>();
        SupervisedRun? last = null;
        for (int r = 0; r < runs + 1; r++)
        {
            var oracle = new DelayOracle(new FirstOracle(), delay);
            var pipeline = new OraclePipeline(oracle, new LmnTermChecker(Lexicon.Default));
            var sup = new Supervisor(prog, pipeline, new SupervisorOptions());
            var result = sup.RunAsync(CancellationToken.None).GetAwaiter().GetResult();
            if (result.Error != null)
            {
                stderr.WriteLine(result.Error);
                return 1;
            }
            if (r == 0) continue; // warm-up
            last = result;
            double oracleMs = result.Oracle.OracleMs;
            overheads.Add((result.Time.TotalMilliseconds - oracleMs) * 1000.0 / sites);
            waits.Add(oracleMs);
        }
        overheads.Sort();
        waits.Sort();
        stdout.WriteLine($"sites: {sites}");
        stdout.WriteLine($"result: {(last!.Output!.Length > 60 ? last.Output[..60] + "..." : last.Output)}");
        stdout.WriteLine($"rounds: {last.Rounds}");
        stdout.WriteLine($"questions: {last.Oracle.Questions}");
        stdout.WriteLine($"batches: {last.Oracle.Batches}");
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"oracle_delay_ms_per_call: {delay}"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"oracle_wait_ms_median: {waits[waits.Count / 2]:F0}"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"overhead_us_per_site_median: {overheads[overheads.Count / 2]:F2}"));
        return 0;
    }

    /// <summary>Wraps an oracle with a fixed delay per call (a stand-in for a network round trip).</summary>
    private sealed class DelayOracle(IOracle inner, int delayMs) : IOracle
    {
        public string Identity => inner.Identity;

        public async Task<IReadOnlyList<OracleResult>> AskAsync(IReadOnlyList<OracleRequest> batch, CancellationToken cancellationToken)
        {
            if (delayMs > 0) await Task.Delay(delayMs, cancellationToken).ConfigureAwait(false);
            return await inner.AskAsync(batch, cancellationToken).ConfigureAwait(false);
        }
    }
}
