using System.Text.RegularExpressions;
using Xunit;

namespace Lmn.Tests;

/// <summary>
/// The layers point one way (docs/architecture.md): the net knows nothing of text trees, regions, the language
/// or the runtime, and the oracles know nothing of the language. A file that names a namespace above its own
/// (a using or a qualified name) fails the test with its file and line.
/// </summary>
public sealed class LayeringTests
{
    [Theory]
    [InlineData("src/Lmn/Net", new[] { "Lmn.Hvm", "Lmn.Regions", "Lmn.Language", "Lmn.Runtime", "Lmn.Oracles", "Lmn.Debugging" })]
    [InlineData("src/Lmn/Hvm", new[] { "Lmn.Regions", "Lmn.Language", "Lmn.Runtime", "Lmn.Oracles", "Lmn.Debugging" })]
    [InlineData("src/Lmn/Regions", new[] { "Lmn.Language", "Lmn.Runtime", "Lmn.Oracles", "Lmn.Debugging" })]
    [InlineData("src/Lmn/Words", new[] { "Lmn.Language", "Lmn.Runtime", "Lmn.Oracles" })]
    [InlineData("src/Lmn/Oracles", new[] { "Lmn.Language", "Lmn.Runtime", "Lmn.Debugging" })]
    [InlineData("src/Lmn/Language", new[] { "Lmn.Runtime", "Lmn.Debugging" })]
    public void LayersPointOneWay(string folder, string[] above)
    {
        var problems = new List<string>();
        foreach (string file in Directory.GetFiles(Path.Combine(TestUtil.RepoRoot, folder), "*.cs", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string ns = Path.GetFileName(folder);
            string[] lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
                foreach (string name in above)
                    if (Mentions(lines[i], name, ns))
                        problems.Add($"{Path.GetRelativePath(TestUtil.RepoRoot, file)}:{i + 1}: uses {name}: {lines[i].Trim()}");
        }
        Assert.True(problems.Count == 0, $"{folder} must not depend on a layer above it:\n" + string.Join("\n", problems));
    }

    /// <summary>`using Lmn.X`, `Lmn.X.Type`, or (inside namespace Lmn.*) the short `X.Type`; comments do not count.</summary>
    private static bool Mentions(string line, string name, string ownFolder)
    {
        string code = line;
        int comment = code.IndexOf("//", StringComparison.Ordinal);
        if (comment >= 0) code = code[..comment];
        if (code.TrimStart().StartsWith('*')) return false;
        string last = name["Lmn.".Length..];
        if (Regex.IsMatch(code, $@"\b{Regex.Escape(name)}\b")) return true;
        // A file in namespace Lmn.Something reaches Lmn.X as plain `X.`.
        return last != ownFolder && Regex.IsMatch(code, $@"(?<![\w.""]){Regex.Escape(last)}\.[A-Z]");
    }

    [Fact]
    public void TheCheckSeesAViolation()
    {
        Assert.True(Mentions("using Lmn.Hvm;", "Lmn.Hvm", "Net"));
        Assert.True(Mentions("    uint[] Adopt(Regions.Region fragment);", "Lmn.Regions", "Net"));
        Assert.False(Mentions("    // see Regions.Graft", "Lmn.Regions", "Net"));
        Assert.False(Mentions("    var r = new Region();", "Lmn.Regions", "Net"));
    }
}
