using System.Text;
using Lmn.Cli;
using Lmn.Hvm;
using Lmn.Net;
using Lmn.Runtime;

namespace Lmn.Tests.Net;

/// <summary>HVM2's IO primitives through the IO loop, with programs built the way Bend encodes them.</summary>
public class IoTests
{
    private int _n;
    private string V() => "v" + _n++;

    private const string Magic = "(0xD0CA11 0xFF1FF1)";

    /// <summary>A λ-encoded list of bytes: Cons = λt (t 1 head tail), Nil = λt (t 0).</summary>
    private string Str(string s)
    {
        string v = V();
        string acc = $"((0 {v}) {v})";
        foreach (byte b in Encoding.UTF8.GetBytes(s).Reverse())
        {
            string r = V();
            acc = $"((1 ({b} ({acc} {r}))) {r})";
        }
        return acc;
    }

    /// <summary>IO_CALL: λt (t 1 MAGIC func argm cont).</summary>
    private string Call(string func, string argm, string cont)
    {
        string r = V();
        return $"((1 ({Magic} ({Str(func)} ({argm} ({cont} {r}))))) {r})";
    }

    /// <summary>IO_DONE: λt (t 0 MAGIC value).</summary>
    private string Done(string value)
    {
        string r = V();
        return $"((0 ({Magic} ({value} {r}))) {r})";
    }

    /// <summary>A continuation that ignores the result.</summary>
    private static string Then(string next) => $"(* {next})";

    private static (string Result, string Out) Run(string main, string stdin = "")
    {
        var ast = HvmParser.Parse("io.hvm", "@main = " + main);
        var output = new MemoryStream();
        var host = new IoHost { StdIn = new MemoryStream(Encoding.UTF8.GetBytes(stdin)), StdOut = output, StdErr = new MemoryStream() };
        var o = HvmRunner.Run(ast, 1L << 26, host);
        Assert.Null(o.Error);
        return (o.Output, Encoding.UTF8.GetString(output.ToArray()));
    }

    [Fact]
    public void WritesToStdout()
    {
        var (_, output) = Run(Call("WRITE", $"(1 {Str("hello\n")})", Then(Done("7"))));
        Assert.Equal("hello\n", output);
    }

    [Fact]
    public void ReadsStdinAndEchoesIt()
    {
        // READ (0, 3) gives Ok(bytes); the continuation takes the bytes out of Ok and WRITEs them.
        string res = V(), bytes = V(), t = V();
        string unwrap = $"& {res} ~ ((* ({t} {t})) {bytes})";
        string cont = $"({res} {Call("WRITE", $"(1 {bytes})", Then(Done("1")))})";
        var (_, output) = Run(Call("READ", "(0 3)", cont) + "\n" + unwrap, stdin: "abcdef");
        Assert.Equal("abc", output);
    }

    [Fact]
    public void WritesAFileAndReadsItBack()
    {
        string path = Path.Combine(Path.GetTempPath(), "lmn-io-" + Guid.NewGuid().ToString("N") + ".txt");
        try
        {
            // OPEN (path, "w") → fd; WRITE (fd, "xyz"); CLOSE fd; then OPEN (path, "r"); READ 3; WRITE to stdout.
            string r1 = V(), fd = V(), fdA = V(), fdB = V(), t1 = V();
            string r2 = V(), fd2 = V(), t2 = V(), r3 = V(), bytes = V(), t3 = V();
            string readBack = Call("OPEN", $"({Str(path)} {Str("r")})",
                $"({r2} {Call("READ", $"({fd2} 3)", $"({r3} {Call("WRITE", $"(1 {bytes})", Then(Done("0")))})")})");
            string program = Call("OPEN", $"({Str(path)} {Str("w")})",
                $"({r1} {Call("WRITE", $"({fdA} {Str("xyz")})", Then(Call("CLOSE", fdB, Then(readBack))))})")
                + $"\n & {r1} ~ ((* ({t1} {t1})) {fd})"
                + $"\n & {fd} ~ {{{fdA} {fdB}}}"
                + $"\n & {r2} ~ ((* ({t2} {t2})) {fd2})"
                + $"\n & {r3} ~ ((* ({t3} {t3})) {bytes})";
            var (_, output) = Run(program);
            Assert.Equal("xyz", File.ReadAllText(path));
            Assert.Equal("xyz", output);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void OpeningAMissingFileIsAnIoError()
    {
        // The Result of OPEN is Err(Inner(ENOENT)): returned as the value of IO_DONE.
        string res = V();
        var (result, _) = Run(Call("OPEN", $"({Str("/nonexistent/dir/x")} {Str("r")})", $"({res} {Done(res)})"));
        Assert.Contains("(1 (((2 (+2 ", result); // RESULT_ERR (IO_ERR_INNER (+2 = ENOENT))
    }

    [Fact]
    public void UnknownPrimitiveIsANameError()
    {
        string res = V();
        var (result, _) = Run(Call("FROB", "*", $"({res} {Done(res)})"));
        Assert.Contains("(1 (((1 ", result); // RESULT_ERR (IO_ERR_NAME)
    }

    [Fact]
    public void SleepsAndGetsTheTime()
    {
        string res = V();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var (result, _) = Run(Call("SLEEP", "(1 3554432)", Then(Call("GET_TIME", "*", $"({res} {Done(res)})"))));
        Assert.True(sw.ElapsedMilliseconds >= 20, $"slept {sw.ElapsedMilliseconds} ms");
        Assert.StartsWith("((0 ((13683217 16719857) (((0 ((", result); // Ok((hi, lo)); the sleep was (1 << 24) + 3554432 ns = 20.3 ms
    }
}
