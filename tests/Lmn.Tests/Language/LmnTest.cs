using Lmn.Language;
using Lmn.Text;

namespace Lmn.Tests.Language;

/// <summary>Helpers: compile and run LMN source in-process.</summary>
public static class LmnTest
{
    /// <summary>Runs a program; returns the printed value, or the error text.</summary>
    public static (string Output, long Itrs) Run(string source, params (string Name, string Value)[] context)
    {
        var diags = new List<Diagnostic>();
        var ctx = LmnDriver.ParseContext(context.Select(c => new KeyValuePair<string, string>(c.Name, c.Value)), diags);
        var prog = LmnDriver.Compile(new SourceText("F.lmn", source), diags, ctx);
        if (prog == null) return (string.Join("\n", diags.Where(d => d.Severity == Severity.Error).Select(d => d.Render())), -1);
        var r = Lmn.Runtime.LmnRunner.Run(prog, 256L << 20);
        return (r.Error ?? r.Output!, r.Interactions);
    }

    public static string Out(string source, params (string, string)[] context) => Run(source, context).Output;

    /// <summary>Every diagnostic (errors and warnings), rendered.</summary>
    public static List<Diagnostic> Check(string source)
    {
        var diags = new List<Diagnostic>();
        LmnDriver.Compile(new SourceText("F.lmn", source), diags);
        return diags;
    }
}
