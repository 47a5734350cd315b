using System.Diagnostics;
using System.Globalization;
using System.Text;
using Lmn.Hvm;
using Lmn.Language;
using Lmn.Net;
using Lmn.Text;

namespace Lmn.Cli;

/// <summary>
/// `lmn bench compile-shapes [--sizes 10000,100000,1000000] [--shapes ...] [--timeout S]`: generated programs
/// of one shape each (chained lets, nested ∿, nested if, many .hvm definitions) at each size, and the time
/// per line of `check` and of `compile`. Each size runs in a child process of its own (its peak memory is
/// its own) with a time limit: a size that does not finish is reported as `timeout`, never waited for.
/// </summary>
public static class CompileShapesBench
{
    public static readonly string[] Shapes = ["lets", "amb", "if", "hvm-defs"];

    public const string Usage = "bench compile-shapes [--sizes 10000,100000,1000000] [--shapes lets,amb,if,hvm-defs] [--timeout S] [--memory SIZE]";

    public static int Execute(List<int> sizes, List<string> shapes, double timeout, long memory, TextWriter stdout, TextWriter stderr)
    {
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{"shape",-9} {"lines",9} {"check s",9} {"check µs/line",14} {"compile s",10} {"compile µs/line",16} {"peak MB",8} {"bytes/line",11} {"cpu µs/line",12} {"GCs",6}   (timeout {timeout:0.###} s, heap limit {memory >> 20} MB per size)"));
        stdout.Flush();
        foreach (string shape in shapes)
            foreach (int lines in sizes)
            {
                stdout.WriteLine(Row(shape, lines, timeout, memory));
                stdout.Flush();
            }
        stdout.WriteLine("timeout: over the time limit (--timeout); memory: over the heap limit (--memory); stack: the compiler's recursion overflowed the CLI's 2 GB stack.");
        stdout.WriteLine("check: what `lmn check` does (parse and compile, .hvm: parse and check); compile: that, then the runtime book and the emitted text (`lmn compile --emit hvm`, .hvm: `lmn run` up to reduction). Time per line should be flat as the size grows.");
        return 0;
    }

    private static string Row(string shape, int lines, double timeout, long memory)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // A hard limit on the child's heap: a compiler that needs quadratic memory fails alone, it does not take the machine with it.
        psi.Environment["DOTNET_GCHeapHardLimit"] = "0x" + memory.ToString("X", CultureInfo.InvariantCulture);
        if (Path.GetFileNameWithoutExtension(psi.FileName) == "dotnet") psi.ArgumentList.Add(typeof(CompileShapesBench).Assembly.Location);
        foreach (var a in new[] { "compile-shapes-child", shape, lines.ToString(CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var got = new Dictionary<string, double>(StringComparer.Ordinal);
        var reader = Task.Run(() =>
        {
            string? line;
            while ((line = p.StandardOutput.ReadLine()) != null)
            {
                var kv = line.Split(' ', 2);
                if (kv.Length == 2 && double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                    lock (got) got[kv[0]] = v;
            }
        });
        bool finished = p.WaitForExit(TimeSpan.FromSeconds(timeout));
        if (!finished)
        {
            try { p.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }
            p.WaitForExit();
        }
        reader.Wait(TimeSpan.FromSeconds(5));
        string Cell(string key, int width, bool perLine, string missing)
        {
            lock (got)
            {
                if (!got.TryGetValue(key, out double s)) return missing.PadLeft(width);
                return (perLine ? (s * 1e6 / lines).ToString("F2", CultureInfo.InvariantCulture) : s.ToString("F3", CultureInfo.InvariantCulture)).PadLeft(width);
            }
        }
        bool oom = finished && p.ExitCode != 0 && err.Wait(TimeSpan.FromSeconds(5)) && err.Result.Contains("OutOfMemory", StringComparison.Ordinal);
        bool overflow = finished && p.ExitCode != 0 && !oom && err.Wait(TimeSpan.FromSeconds(5)) && err.Result.Contains("Stack overflow", StringComparison.Ordinal);
        string why = finished ? (p.ExitCode == 0 ? "-" : oom ? "memory" : overflow ? "stack" : $"failed({p.ExitCode})") : "timeout";
        string phasesNote = "";
        string row = $"{shape,-9} {lines,9} {Cell("check", 9, false, why)} {Cell("check", 14, true, why)} {Cell("compile", 10, false, why)} {Cell("compile", 16, true, why)}";
        lock (got)
        {
            row += got.TryGetValue("peak_mb", out double mb) ? $" {mb.ToString("F0", CultureInfo.InvariantCulture),8} {(mb * 1048576 / lines).ToString("F0", CultureInfo.InvariantCulture),11}" : $" {why,8} {why,11}";
            var phases = got.Where(kv => kv.Key.StartsWith("phase_", StringComparison.Ordinal)).Select(kv => $"{kv.Key[6..]} {kv.Value * 1e6 / lines:F1}").ToList();
            if (phases.Count > 0) phasesNote = "   µs/line: " + string.Join(", ", phases);
            row += $" {Cell("cpu", 12, true, why)} {(got.TryGetValue("gcs", out double gcs) ? gcs.ToString("F0", CultureInfo.InvariantCulture) : why),6}";
        }
        row += phasesNote;
        if (oom) row += $"   more than the heap limit of {memory >> 20} MB (--memory)";
        else if (finished && p.ExitCode != 0 && err.Wait(TimeSpan.FromSeconds(5)))
        {
            string first = err.Result.Split('\n').FirstOrDefault(l => l.Trim().Length > 0)?.Trim() ?? "";
            if (first.Length > 0) row += "   " + (first.Length > 100 ? first[..100] + "..." : first);
        }
        return row;
    }

    /// <summary>The child: generates one program, times check then compile, prints `check S`, `compile S`, `cpu S` (both, all threads), `gcs N` (gen0 collections), `peak_mb M`.</summary>
    internal static int One(string shape, int lines, TextWriter stdout, TextWriter stderr)
    {
        string text = Generate(shape, lines);
        // A small warm-up of the same shape: the JIT's first compilation is not part of the figure.
        Measure(shape, Generate(shape, 200), out _, out _);
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        int gc0 = GC.CollectionCount(0);
        Measure(shape, text, out double check, out double compile, stdout);
        // CPU time (all threads, the GC's too) is steadier than wall time on a shared machine.
        stdout.WriteLine($"cpu {(Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds.ToString("R", CultureInfo.InvariantCulture)}");
        stdout.WriteLine($"gcs {GC.CollectionCount(0) - gc0}");
        stdout.WriteLine($"peak_mb {Bench.PeakRssMb().ToString("F1", CultureInfo.InvariantCulture)}");
        stdout.Flush();
        return 0;
    }

    private static void Measure(string shape, string text, out double check, out double compile, TextWriter? report = null)
    {
        var sw = Stopwatch.StartNew();
        if (shape == "hvm-defs")
        {
            var ast = HvmParser.Parse(new SourceText("shape.hvm", text));
            check = sw.Elapsed.TotalSeconds;
            report?.WriteLine($"check {check.ToString("R", CultureInfo.InvariantCulture)}");
            report?.Flush();
            var book = Book.FromHvm(ast);
            GC.KeepAlive(book);
            compile = sw.Elapsed.TotalSeconds;
        }
        else
        {
            var diags = new List<Diagnostic>();
            double last = 0;
            var prog = LmnDriver.Compile(new SourceText("shape.lmn", text), diags, phase: name =>
            {
                double now = sw.Elapsed.TotalSeconds;
                report?.WriteLine($"phase_{name} {(now - last).ToString("R", CultureInfo.InvariantCulture)}");
                last = now;
            });
            check = sw.Elapsed.TotalSeconds;
            if (prog == null)
                throw new InvalidOperationException("the generated program does not compile: " + diags.First(d => d.Severity == Severity.Error).Render());
            report?.WriteLine($"check {check.ToString("R", CultureInfo.InvariantCulture)}");
            report?.Flush();
            double t0 = sw.Elapsed.TotalSeconds;
            var book = LmnDriver.BuildBook(prog);
            double t1 = sw.Elapsed.TotalSeconds;
            string hvm = prog.Book.Show();
            report?.WriteLine($"phase_book {(t1 - t0).ToString("R", CultureInfo.InvariantCulture)}");
            report?.WriteLine($"phase_text {(sw.Elapsed.TotalSeconds - t1).ToString("R", CultureInfo.InvariantCulture)}");
            GC.KeepAlive(book);
            GC.KeepAlive(hvm);
            compile = sw.Elapsed.TotalSeconds;
        }
        report?.WriteLine($"compile {compile.ToString("R", CultureInfo.InvariantCulture)}");
        report?.Flush();
    }

    /// <summary>A program of about <paramref name="lines"/> lines, all of one shape.</summary>
    public static string Generate(string shape, int lines)
    {
        var sb = new StringBuilder(lines * 24);
        int n = Math.Max(1, lines - 3);
        switch (shape)
        {
            case "lets":
                // def main =
                //   let x0 = 0;
                //   let x1 = x0 + 1;  (each let uses the one before it)
                sb.Append("def main =\n  let x0 = 0;\n");
                for (int i = 1; i <= n; i++) sb.Append("  let x").Append(i).Append(" = x").Append(i - 1).Append(" + 1;\n");
                sb.Append("  x").Append(n).Append('\n');
                break;
            case "amb":
                // ∿lov[joy, ∿lov[joy, ... pai]] one level per line
                for (int i = 0; i < n; i++) sb.Append("∿lov[joy,\n");
                sb.Append("pai").Append(']', n).Append('\n');
                break;
            case "if":
                // def f(x) = if x == 0 then 0 else if x == 1 then 1 else ... one level per line
                sb.Append("def f(x) =\n");
                for (int i = 0; i < n; i++) sb.Append("  if x == ").Append(i).Append(" then ").Append(i).Append(" else\n");
                sb.Append("  0\n");
                sb.Append("def main = f(3)\n");
                break;
            case "hvm-defs":
                // @main = @f0, @fi = (a @f(i+1)) ... one definition per line
                sb.Append("@main = @f0\n");
                for (int i = 0; i < n; i++) sb.Append("@f").Append(i).Append(" = (* @f").Append(i + 1).Append(")\n");
                sb.Append("@f").Append(n).Append(" = *\n");
                break;
            default:
                throw new Commands.UsageException($"unknown shape '{shape}', expected one of {string.Join(", ", Shapes)}");
        }
        return sb.ToString();
    }
}
