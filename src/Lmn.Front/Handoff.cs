using System.Runtime.InteropServices;

namespace Lmn.Front;

/// <summary>
/// Replaces this process with the managed CLI (execv): same arguments, same standard streams, same
/// environment, and its exit code is the command's. Nothing has been written when this is called.
/// </summary>
internal static unsafe partial class Handoff
{
    /// <summary>Where the managed CLI is: $LMN_MANAGED (its apphost or its .dll), else Lmn.Cli or Lmn.Cli.dll beside the front.</summary>
    public static string? Managed()
    {
        string? env = Environment.GetEnvironmentVariable("LMN_MANAGED");
        if (!string.IsNullOrEmpty(env)) return File.Exists(env) ? env : null;
        string dir = AppContext.BaseDirectory;
        foreach (string name in new[] { "Lmn.Cli", "Lmn.Cli.dll" })
        {
            string p = Path.Combine(dir, name);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    public static int Exec(string[] args)
    {
        string? managed = Managed();
        if (managed == null)
        {
            Console.Error.WriteLine($"lmn: the managed CLI (Lmn.Cli) is not beside {Environment.ProcessPath} (set LMN_MANAGED to its path)");
            return 1;
        }
        string exe = managed;
        var argv = new List<string>();
        if (managed.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            // A framework-dependent tool ships no apphost: the dotnet host runs the dll.
            exe = Dotnet() ?? "";
            if (exe.Length == 0)
            {
                Console.Error.WriteLine("lmn: dotnet was not found (DOTNET_HOST_PATH, DOTNET_ROOT, PATH); it runs " + managed);
                return 1;
            }
            argv.Add(exe);
        }
        argv.Add(managed);
        argv.AddRange(args);
        // A batch run's runtime settings (Lmn.Cli.RunCore.BatchRuntime), in the environment the managed CLI
        // starts with; setenv(3), not Environment.SetEnvironmentVariable, which execv does not see.
        if (Lmn.Cli.RunCore.IsBatch(args))
            foreach (var (name, value) in Lmn.Cli.RunCore.BatchRuntime) setenv(name, value, 0);
        Console.Out.Flush();
        Execv(exe, argv);
        Console.Error.WriteLine($"lmn: cannot start {exe}: {Marshal.GetLastPInvokeErrorMessage()}");
        return 1;
    }

    private static string? Dotnet()
    {
        foreach (string? p in new[]
                 {
                     Environment.GetEnvironmentVariable("DOTNET_HOST_PATH"),
                     Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root ? Path.Combine(root, "dotnet") : null,
                 })
            if (!string.IsNullOrEmpty(p) && File.Exists(p)) return p;
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string p = Path.Combine(dir, "dotnet");
            if (File.Exists(p)) return p;
        }
        return null;
    }

    /// <summary>execv(2); returns only when it failed (errno in the last P/Invoke error).</summary>
    private static void Execv(string path, List<string> argv)
    {
        var native = new IntPtr[argv.Count + 1];
        for (int i = 0; i < argv.Count; i++) native[i] = Marshal.StringToCoTaskMemUTF8(argv[i]);
        IntPtr p = Marshal.StringToCoTaskMemUTF8(path);
        fixed (IntPtr* a = native) execv((byte*)p, (byte**)a);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int execv(byte* path, byte** argv);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}
