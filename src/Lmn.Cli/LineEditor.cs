using System.Text;

namespace Lmn.Cli;

/// <summary>
/// A small line editor over <see cref="Console.ReadKey(bool)"/> for `lmn repl` on a terminal: left/right,
/// Home/End (Ctrl+A/Ctrl+E), Backspace/Delete, Ctrl+U (clear), up/down through the session's history,
/// Ctrl+C clears the line, Ctrl+D on an empty line ends input. Only used when stdin is a terminal; piped
/// input is read line by line.
/// </summary>
public sealed class LineEditor(TextWriter output)
{
    private readonly List<string> _history = [];

    /// <summary>The next line is the continuation of an input (the prompt says so).</summary>
    public bool Continuing { get; set; }

    public IReadOnlyList<string> History => _history;

    /// <summary>Reads one line; null at end of input (Ctrl+D on an empty line).</summary>
    public string? ReadLine(string prompt)
    {
        output.Write(prompt);
        var buf = new StringBuilder();
        int cursor = 0;
        int hist = _history.Count;
        string saved = "";
        while (true)
        {
            var k = Console.ReadKey(intercept: true);
            bool ctrl = (k.Modifiers & ConsoleModifiers.Control) != 0;
            switch (k.Key)
            {
                case ConsoleKey.Enter:
                    output.WriteLine();
                    string line = buf.ToString();
                    if (line.Trim().Length > 0 && (_history.Count == 0 || _history[^1] != line)) _history.Add(line);
                    return line;
                case ConsoleKey.Backspace:
                    if (cursor > 0) { buf.Remove(--cursor, 1); Redraw(prompt, buf, cursor); }
                    break;
                case ConsoleKey.Delete:
                    if (cursor < buf.Length) { buf.Remove(cursor, 1); Redraw(prompt, buf, cursor); }
                    break;
                case ConsoleKey.LeftArrow:
                    if (cursor > 0) { cursor--; Redraw(prompt, buf, cursor); }
                    break;
                case ConsoleKey.RightArrow:
                    if (cursor < buf.Length) { cursor++; Redraw(prompt, buf, cursor); }
                    break;
                case ConsoleKey.Home:
                    cursor = 0; Redraw(prompt, buf, cursor);
                    break;
                case ConsoleKey.End:
                    cursor = buf.Length; Redraw(prompt, buf, cursor);
                    break;
                case ConsoleKey.UpArrow or ConsoleKey.DownArrow:
                {
                    // Up walks back through the history; down walks forward to the line being typed.
                    if (hist == _history.Count) saved = buf.ToString();
                    int next = k.Key == ConsoleKey.UpArrow ? Math.Max(0, hist - 1) : Math.Min(_history.Count, hist + 1);
                    if (next == hist) break;
                    hist = next;
                    buf.Clear().Append(hist == _history.Count ? saved : _history[hist]);
                    cursor = buf.Length;
                    Redraw(prompt, buf, cursor);
                    break;
                }
                default:
                    if (ctrl && k.Key == ConsoleKey.D && buf.Length == 0) { output.WriteLine(); return null; }
                    if (ctrl && k.Key == ConsoleKey.C) { output.WriteLine("^C"); buf.Clear(); cursor = 0; output.Write(prompt); break; }
                    if (ctrl && k.Key == ConsoleKey.A) { cursor = 0; Redraw(prompt, buf, cursor); break; }
                    if (ctrl && k.Key == ConsoleKey.E) { cursor = buf.Length; Redraw(prompt, buf, cursor); break; }
                    if (ctrl && k.Key == ConsoleKey.U) { buf.Clear(); cursor = 0; Redraw(prompt, buf, cursor); break; }
                    if (k.KeyChar != '\0' && !char.IsControl(k.KeyChar))
                    {
                        buf.Insert(cursor++, k.KeyChar);
                        Redraw(prompt, buf, cursor);
                    }
                    break;
            }
        }
    }

    /// <summary>Rewrites the line: carriage return, prompt, text, clear to the end, cursor back in place.</summary>
    private void Redraw(string prompt, StringBuilder buf, int cursor)
    {
        output.Write("\r" + prompt + buf + "\x1b[K");
        int back = buf.Length - cursor;
        if (back > 0) output.Write($"\x1b[{back}D");
    }
}
