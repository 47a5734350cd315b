using System.Diagnostics;
using System.Globalization;

namespace Lmn.Cli;

/// <summary>
/// `lmn bench startup [--runs N] [--file F] [--command C]`: the median wall time of `C run F` (default: this
/// lmn and a one-line .hvm program), each run a fresh process, after one untimed run (docs/startup.md).
/// </summary>
public static class StartupBench
{
    public static int Execute(int runs, string? file, string? command, TextWriter stdout, TextWriter stderr)
    {
        string? temp = null;
        if (file == null)
        {
            temp = Path.Combine(Path.GetTempPath(), "lmn-startup-" + Environment.ProcessId + ".hvm");
            File.WriteAllText(temp, "@main = 42\n");
            file = temp;
        }
        try
        {
            var (exe, prefix) = Target(command);
            var times = new List<double>();
            for (int r = -1; r < runs; r++)
            {
                var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (var a in prefix) psi.ArgumentList.Add(a);
                psi.ArgumentList.Add("run");
                psi.ArgumentList.Add(file);
                var sw = Stopwatch.StartNew();
                using var p = Process.Start(psi)!;
                var err = p.StandardError.ReadToEndAsync();
                p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                sw.Stop();
                if (p.ExitCode != 0)
                {
                    stderr.WriteLine($"lmn bench startup: {exe} run {file} exited with {p.ExitCode}: {err.Result.Trim()}");
                    return 1;
                }
                if (r >= 0) times.Add(sw.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            double median = times.Count % 2 == 1 ? times[times.Count / 2] : (times[times.Count / 2 - 1] + times[times.Count / 2]) / 2;
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"startup: {string.Join(' ', prefix.Prepend(exe))} run {Path.GetFileName(file)}: median {median:F1} ms, min {times[0]:F1} ms, max {times[^1]:F1} ms over {runs} runs"));
            return 0;
        }
        finally
        {
            if (temp != null) File.Delete(temp);
        }
    }

    /// <summary>The program to start: the command given, or this process's own (its apphost, or dotnet with the dll).</summary>
    private static (string Exe, string[] Prefix) Target(string? command)
    {
        if (command != null) return (command, []);
        string self = Environment.ProcessPath ?? "dotnet";
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") return (self, [typeof(StartupBench).Assembly.Location]);
        return (self, []);
    }
}
