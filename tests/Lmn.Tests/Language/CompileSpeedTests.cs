using System.Diagnostics;
using System.Text;
using Lmn.Language;
using Lmn.Text;

namespace Lmn.Tests.Language;

[CollectionDefinition("serial", DisableParallelization = true)]
public sealed class SerialCollection;

/// <summary>Runs alone (not beside the engine tests), best of three, so the timing measures the compiler.</summary>
[Collection("serial")]
public class CompileSpeedTests
{
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

    [Fact]
    public void TenThousandLinesCompileInUnderASecond()
    {
        string text = Generate(10_000);
        Assert.Equal(10_000, text.Count(c => c == '\n'));
        var diags = new List<Diagnostic>();
        LmnDriver.Compile(new SourceText("warm.lmn", Generate(200)), diags);
        diags.Clear();
        CompiledProgram? prog = null;
        var best = TimeSpan.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            diags.Clear();
            var sw = Stopwatch.StartNew();
            prog = LmnDriver.Compile(new SourceText("big.lmn", text), diags);
            sw.Stop();
            if (sw.Elapsed < best) best = sw.Elapsed;
        }
        Assert.True(prog != null, string.Join("\n", diags.Where(d => d.Severity == Severity.Error).Take(3).Select(d => d.Render())));
        Assert.True(best.TotalSeconds < 1.0, $"compiling 10,000 lines took {best.TotalMilliseconds:F0} ms");
        Assert.True(prog!.Book.Defs.Count > 10_000);
    }
}
