using System.Text;

namespace Lmn.Text;

public enum Severity { Error, Warning }

/// <summary>A source file held in memory, with line lookup for diagnostics.</summary>
public sealed class SourceText
{
    private readonly int[] _lineStarts;

    public SourceText(string path, string text)
    {
        Path = path;
        Text = text;
        var starts = new List<int> { 0 };
        for (int i = 0; i < text.Length; i++)
            if (text[i] == '\n') starts.Add(i + 1);
        _lineStarts = [.. starts];
    }

    public string Path { get; }
    public string Text { get; }

    public static SourceText FromFile(string path) => new(path, File.ReadAllText(path));

    /// <summary>1-based line and column (in characters) of an offset.</summary>
    public (int Line, int Column) LineColumn(int offset)
    {
        offset = Math.Clamp(offset, 0, Text.Length);
        int lo = 0, hi = _lineStarts.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (_lineStarts[mid] <= offset) lo = mid; else hi = mid - 1;
        }
        return (lo + 1, offset - _lineStarts[lo] + 1);
    }

    /// <summary>The text of a 1-based line, without its newline.</summary>
    public string LineText(int line)
    {
        var (start, length) = LineRange(line);
        return Text.Substring(start, length);
    }

    /// <summary>Where line (1-based) starts and how long it is, without its line break.</summary>
    public (int Start, int Length) LineRange(int line)
    {
        if (line < 1 || line > _lineStarts.Length) return (0, 0);
        int start = _lineStarts[line - 1];
        int end = line < _lineStarts.Length ? _lineStarts[line] : Text.Length;
        while (end > start && Text[end - 1] is '\n' or '\r') end--;
        return (start, end - start);
    }
}

/// <summary>A user-facing message about the input: a value, not an exception.</summary>
public sealed record Diagnostic(Severity Severity, SourceText Source, int Offset, string Message)
{
    public int Line => Source.LineColumn(Offset).Line;
    public int Column => Source.LineColumn(Offset).Column;

    /// <summary>`file:line:col: error: message`, then the line and a caret under the column.</summary>
    public string Render()
    {
        var (line, col) = Source.LineColumn(Offset);
        var (lineStart, lineLength) = Source.LineRange(line);
        var sb = new StringBuilder();
        sb.Append(Source.Path).Append(':').Append(line).Append(':').Append(col).Append(": ")
          .Append(Severity == Severity.Error ? "error" : "warning").Append(": ").Append(Message).Append('\n');
        string gutter = line.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // A long line (a generated program, a minified file) is shown as a window around the column;
        // only the window is copied, so a thousand errors on one 10 MB line are rendered quickly.
        int caret = Math.Max(0, Math.Min(col - 1, lineLength));
        string text;
        if (lineLength > MaxShown)
        {
            int from = Math.Clamp(caret - MaxShown / 2, 0, lineLength - MaxShown);
            string window = Source.Text.Substring(lineStart + from, MaxShown);
            text = (from > 0 ? "…" : "") + window + (from + MaxShown < lineLength ? "…" : "");
            caret = caret - from + (from > 0 ? 1 : 0);
        }
        else text = Source.Text.Substring(lineStart, lineLength);
        sb.Append(' ').Append(gutter).Append(" | ").Append(text.Replace('\t', ' ')).Append('\n');
        sb.Append(' ').Append(new string(' ', gutter.Length)).Append(" | ")
          .Append(new string(' ', caret)).Append('^');
        return sb.ToString();
    }

    public override string ToString() => Render();

    /// <summary>The most characters of a source line a rendered diagnostic shows.</summary>
    public const int MaxShown = 160;
}

/// <summary>Thrown to stop a pass once it has reported its diagnostics.</summary>
public sealed class DiagnosticException(IReadOnlyList<Diagnostic> diagnostics)
    : Exception(string.Join("\n", diagnostics.Select(d => d.Render())))
{
    public IReadOnlyList<Diagnostic> Diagnostics { get; } = diagnostics;
}
