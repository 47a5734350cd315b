using System.Diagnostics;
using System.Globalization;

namespace Lmn.Cli;

/// <summary>
/// `lmn bench startup [--runs N] [--file F] [--command C]... [--compare]`: the wall time of `C run F`, each run
/// a fresh process, after one untimed run; median, minimum and maximum, and the load average before and after
/// (the machine may be shared). Default: this lmn and a one-line .hvm program. --compare measures, in
/// interleaved rounds, ./lmn, the NativeAOT front and the managed apphost beside this lmn, and the installed
/// tool (~/.dotnet/tools/lmn) when there is one, each on a one-line .hvm and a one-line .lmn program
/// (docs/startup.md).
/// </summary>
public static class StartupBench
{
    public static int Execute(int runs, string? file, string? command, TextWriter stdout, TextWriter stderr) =>
        Execute(runs, file, command == null ? [] : [command], compare: false, stdout, stderr);

    public static int Execute(int runs, string? file, IReadOnlyList<string> commands, bool compare, TextWriter stdout, TextWriter stderr)
    {
        string dir = Path.Combine(Path.GetTempPath(), "lmn-startup-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        try
        {
            var files = new List<string>();
            if (file != null) files.Add(file);
            else
            {
                files.Add(Path.Combine(dir, "one.hvm"));
                File.WriteAllText(files[0], "@main = 42\n");
                if (compare)
                {
                    files.Add(Path.Combine(dir, "one.lmn"));
                    File.WriteAllText(files[1], "def main = 1 + 2\n");
                }
            }
            var targets = new List<(string Exe, string[] Prefix)>();
            foreach (string c in commands) targets.Add((c, []));
            if (compare) targets.AddRange(Compared().Where(t => !commands.Contains(t.Exe)));
            if (targets.Count == 0) targets.Add(Self());

            var times = new Dictionary<(int T, int F), List<double>>();
            string load0 = LoadAverage();
            // Interleaved: each round runs every target on every file, so a change in the machine's load
            // falls on all of them alike.
            for (int r = -1; r < runs; r++)
                for (int t = 0; t < targets.Count; t++)
                    for (int f = 0; f < files.Count; f++)
                    {
                        var (ms, code, err) = Time(targets[t], files[f]);
                        if (code != 0)
                        {
                            stderr.WriteLine($"lmn bench startup: {Name(targets[t])} run {files[f]} exited with {code}: {err.Trim()}");
                            return 1;
                        }
                        if (r >= 0) (times.TryGetValue((t, f), out var l) ? l : times[(t, f)] = []).Add(ms);
                    }
            string load1 = LoadAverage();
            var inv = CultureInfo.InvariantCulture;
            for (int t = 0; t < targets.Count; t++)
                for (int f = 0; f < files.Count; f++)
                {
                    var l = times[(t, f)];
                    l.Sort();
                    double median = l.Count % 2 == 1 ? l[l.Count / 2] : (l[l.Count / 2 - 1] + l[l.Count / 2]) / 2;
                    stdout.WriteLine(string.Create(inv,
                        $"startup: {Name(targets[t])} run {Path.GetFileName(files[f])}: median {median:F1} ms, min {l[0]:F1} ms, max {l[^1]:F1} ms over {runs} runs"));
                }
            stdout.WriteLine($"load average: {load0} before, {load1} after ({Environment.ProcessorCount} cores)");
            return 0;
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static (double Ms, int Code, string Err) Time((string Exe, string[] Prefix) target, string file)
    {
        var psi = new ProcessStartInfo(target.Exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in target.Prefix) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("run");
        psi.ArgumentList.Add(file);
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        sw.Stop();
        return (sw.Elapsed.TotalMilliseconds, p.ExitCode, err.Result);
    }

    private static string Name((string Exe, string[] Prefix) t) => string.Join(' ', t.Prefix.Prepend(t.Exe));

    /// <summary>The first three fields of /proc/loadavg, or "?".</summary>
    private static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "?"; }
        catch (UnauthorizedAccessException) { return "?"; }
    }

    /// <summary>What --compare measures, those that exist: ./lmn, the front and the managed apphost beside this lmn, the installed tool.</summary>
    private static IEnumerable<(string Exe, string[] Prefix)> Compared()
    {
        string here = AppContext.BaseDirectory;
        // .lmn/publish/ of a repository: its ./lmn is two levels up.
        string script = Path.GetFullPath(Path.Combine(here, "..", "..", "lmn"));
        if (File.Exists(script) && File.Exists(Path.Combine(here, "..", "..", "Lmn.slnx"))) yield return (script, []);
        string front = Path.Combine(here, "lmn-front");
        if (File.Exists(front)) yield return (front, []);
        string managed = Path.Combine(here, "Lmn.Cli");
        if (File.Exists(managed)) yield return (managed, []);
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string tool = Path.Combine(home, ".dotnet", "tools", "lmn");
        if (File.Exists(tool)) yield return (tool, []);
    }

    /// <summary>This process's own program (its apphost, or dotnet with the dll).</summary>
    private static (string Exe, string[] Prefix) Self()
    {
        string self = Environment.ProcessPath ?? "dotnet";
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") return (self, [typeof(StartupBench).Assembly.Location]);
        return (self, []);
    }
}
