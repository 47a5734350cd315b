using System.Diagnostics;
using Lmn.Debugger;
using Lmn.Debugging;
using Lmn.Language;
using Lmn.Llm;
using Lmn.Oracles;
using Lmn.Runtime;
using Lmn.Words;

namespace Lmn.Cli;

/// <summary>`lmn debug FILE`: the debugger's web app on 127.0.0.1 (docs/debugger.md).</summary>
public static class DebugCommand
{
    public static int Execute(string file, int port, bool open, int limit, Dictionary<string, string> ctx, RunOptions oracle,
        TextWriter stdout, TextWriter stderr)
    {
        DebugProgram prog;
        try { prog = DebugProgram.Load(file, ctx); }
        catch (DebugLoadException e)
        {
            stderr.WriteLine(e.Message);
            return 1;
        }
        OraclePipeline? pipeline = null;
        if (prog.Lmn != null && prog.Lmn.Sites.Count > 0)
        {
            IOracle o;
            try { o = oracle.BuildOracle(); }
            catch (Exception e) when (e is ProtocolException or OracleConfigurationException)
            {
                stderr.WriteLine($"lmn: {e.Message}");
                return 1;
            }
            var policies = new OraclePolicies { MinConfidence = oracle.MinConfidence, OnInvalid = oracle.OnInvalid == InvalidPolicy.Human ? InvalidPolicy.Fail : oracle.OnInvalid };
            pipeline = new OraclePipeline(o, new LmnTermChecker(Lexicon.Default), policies, oracle.Cache ? new OracleCache(oracle.CacheDir) : null);
        }
        var contextText = ctx.ToDictionary(kv => kv.Key, kv => LmnDriver.ContextText(kv.Key, kv.Value), StringComparer.Ordinal);
        var session = new DebugSession(prog, pipeline, contextText);
        var server = new DebugServer(session, new DebugServerOptions { Port = port, Limit = limit });
        try { server.StartAsync().GetAwaiter().GetResult(); }
        catch (IOException e)
        {
            stderr.WriteLine($"lmn debug: cannot listen on 127.0.0.1:{port}: {e.Message}");
            return 1;
        }
        stdout.WriteLine($"lmn debug: {server.Address} ({file}; oracle {session.OracleName}; Ctrl+C stops)");
        stdout.Flush();
        if (open) OpenBrowser(server.Address!.ToString(), stderr);
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        try { server.WaitForShutdownAsync(stop.Token).GetAwaiter().GetResult(); }
        catch (OperationCanceledException) { }
        server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }

    private static void OpenBrowser(string url, TextWriter stderr)
    {
        string? browser = Environment.GetEnvironmentVariable("BROWSER");
        foreach (string cmd in new[] { browser ?? "", "xdg-open", "chromium" })
        {
            if (cmd.Length == 0) continue;
            try
            {
                Process.Start(new ProcessStartInfo(cmd, url) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true })?.Dispose();
                return;
            }
            catch (System.ComponentModel.Win32Exception) { }
        }
        stderr.WriteLine($"lmn debug: --open: no browser found (set BROWSER); open {url} by hand");
    }
}
