using System.Diagnostics;
using System.Globalization;
using System.Text;
using Lmn.Language;
using Lmn.Text;

namespace Lmn.Cli;

/// <summary>`lmn bench compile [--lines N] [--runs N]`: compiles a generated LMN program and prints the median time.</summary>
public static class CompileBench
{
    public static int Execute(int lines, int runs, TextWriter stdout, TextWriter stderr)
    {
        string text = Generate(lines);
        var diags = new List<Diagnostic>();
        LmnDriver.Compile(new SourceText("warm.lmn", Generate(200)), diags);
        var times = new List<double>();
        for (int r = 0; r < runs; r++)
        {
            diags.Clear();
            var sw = Stopwatch.StartNew();
            var prog = LmnDriver.Compile(new SourceText("big.lmn", text), diags);
            sw.Stop();
            if (prog == null)
            {
                stderr.WriteLine(diags.First(d => d.Severity == Severity.Error).Render());
                return 1;
            }
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"lines: {lines}"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"compile_ms_median: {times[times.Count / 2]:F0}"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"compile_ms_min: {times[0]:F0}"));
        return 0;
    }

    /// <summary>A generated program of 10,000 lines: definitions of every kind, each line a definition.</summary>
    public static string Generate(int lines)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < lines - 1; i++)
        {
            switch (i % 5)
            {
                case 0: sb.Append($"def f{i}(x, y) = if x < y then x * {i % 100} + y else f{Math.Max(0, i - 5)}(y, x)\n"); break;
                case 1: sb.Append($"def f{i}(n) = match n {{ 0 => [joy, pai]; 1+p => [p, ...f{i}(p)] }}\n"); break;
                case 2: sb.Append($"def f{i}(w) = match w {{ joy => fir[lov, pai]; fir[a, b] => b; [h, ...t] => h; _ => \"s{i}\" }}\n"); break;
                case 3: sb.Append($"def f{i}(xs) = let [h, ...t] = xs; map(\\e. e + h, t) → reverse\n"); break;
                default: sb.Append($"def f{i} = let @a = hop; [@a, sad@a, ∿lov[joy, pai], {i}]\n"); break;
            }
        }
        sb.Append("def main = f0(1, 2)\n");
        return sb.ToString();
    }

}
