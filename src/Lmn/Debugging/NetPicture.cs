using System.Globalization;
using System.Text;
using System.Text.Json;
using Lmn.Net;

namespace Lmn.Debugging;

/// <summary>A node of the picture. Ports: 0 the principal, 1 and 2 the auxiliaries (binary nodes and sites).</summary>
public sealed record VizNode(int Id, string Kind, string Label, long Address, bool Active)
{
    /// <summary>Binary nodes and sites have three ports; ERA, NUM, REF and the root one.</summary>
    public int Ports => Kind is "CON" or "DUP" or "OPR" or "SWI" or "AMB" ? 3 : 1;
    /// <summary>The raw words of a binary node's ports (hex), for the debugger's inspector.</summary>
    public string? Words { get; init; }
    /// <summary>A parked site: its question, source location and state.</summary>
    public string? Question { get; init; }
    public string? Location { get; init; }
    public string? State { get; init; }
    /// <summary>A summary node: how many nodes it stands for.</summary>
    public long Hidden { get; init; }
}

/// <summary>A wire between two ports; an active pair joins two principal ports.</summary>
public sealed record VizWire(int From, int FromPort, int To, int ToPort, bool Active, string? Rule);

/// <summary>What a site node shows (the debugger adds its state).</summary>
public sealed record SiteLabel(string Question, string Location, string State);

/// <summary>
/// The drawing model of a net: nodes by kind with their ports, wires between ports, active pairs, parked
/// sites; built breadth-first from the pending redexes (next first), the parked sites and the root, so
/// the part about to change is always drawn. Above <c>limit</c> nodes the rest is summarised: every
/// wire that leads out of the drawn part ends in one summary node that counts the nodes behind it (each
/// hidden node is counted once, by the first summary that reaches it). Deterministic: the same net
/// gives the same picture, node ids in visiting order.
/// </summary>
public sealed class NetPicture
{
    public List<VizNode> Nodes { get; } = [];
    public List<VizWire> Wires { get; } = [];
    /// <summary>Binary nodes in the net (reachable or not: the allocator's count).</summary>
    public long NetNodes { get; private set; }
    /// <summary>Nodes summarised (not drawn).</summary>
    public long HiddenNodes { get; private set; }
    public int Limit { get; private set; }
    public long Interactions { get; private set; }
    public int PendingRedexes { get; private set; }

    public const int DefaultLimit = 500;

    /// <summary>Builds the picture of a net. Sites: a label for each parked site (by index in <c>sites</c>).</summary>
    public static NetPicture Build(SteppingNet net, int limit = DefaultLimit, IReadOnlyList<(ParkedSite Site, SiteLabel Label)>? sites = null,
        int maxRedexes = 64)
    {
        var pic = new NetPicture { Limit = limit, NetNodes = net.LiveNodes, Interactions = net.Interactions, PendingRedexes = net.PendingRedexes };
        var b = new Builder(net, pic, limit);
        int r = 0;
        foreach (var (x, y) in net.Redexes())
        {
            if (r++ >= maxRedexes) break;
            int rule = Port.RuleOf(x, y);
            int na = b.Target(x, out int pa, active: true);
            int nb = b.Target(y, out int pb, active: true);
            pic.Wires.Add(new VizWire(na, pa, nb, pb, true, Rule.Names[rule]));
        }
        if (sites != null)
            foreach (var (site, label) in sites)
            {
                int id = b.Add(new VizNode(pic.Nodes.Count, "AMB", label.Question, -1, false)
                    { Question = label.Question, Location = label.Location, State = label.State });
                b.Connect(id, 1, site.Args);
                b.Connect(id, 2, site.Out);
            }
        int root = b.Add(new VizNode(pic.Nodes.Count, "ROOT", "ROOT", -1, false));
        b.Connect(root, 0, Port.ROOT);
        b.Drain();
        b.Summarise();
        return pic;
    }

    private sealed class Builder(SteppingNet net, NetPicture pic, int limit)
    {
        private readonly Dictionary<uint, int> _byAddress = [];
        private readonly Dictionary<uint, (int Node, int Port)> _openVars = [];
        private readonly Queue<(int Node, int Port, uint Target)> _queue = new();
        private readonly List<(int Node, int Port, uint Target)> _frontier = [];

        public int Add(VizNode n)
        {
            pic.Nodes.Add(n);
            return n.Id;
        }

        /// <summary>The node a principal-side port stands for (creating it); its port number in pa.</summary>
        public int Target(uint p, out int pa, bool active)
        {
            pa = 0;
            uint q = net.Peek(p);
            uint tag = Port.TagOf(q);
            if (tag >= Tag.CON)
            {
                if (_byAddress.TryGetValue(q >> 3, out int known))
                {
                    if (active && !pic.Nodes[known].Active) pic.Nodes[known] = pic.Nodes[known] with { Active = true };
                    return known;
                }
                return NewBinary(q, active);
            }
            if (tag == Tag.VAR)
            {
                // A free wire end in a redex (the engine links variables at once, so rare): draw a point.
                return Add(new VizNode(pic.Nodes.Count, "VAR", "v" + (q >> 3).ToString(CultureInfo.InvariantCulture), q >> 3, active));
            }
            return Leaf(q, active);
        }

        private int NewBinary(uint q, bool active)
        {
            uint addr = q >> 3;
            ulong n = net.NodeAt(addr);
            string kind = KindOf(q);
            int id = Add(new VizNode(pic.Nodes.Count, kind, kind, addr, active)
                { Words = string.Create(CultureInfo.InvariantCulture, $"{(uint)n:X8} {(uint)(n >> 32):X8}") });
            _byAddress[addr] = id;
            _queue.Enqueue((id, 1, (uint)n));
            _queue.Enqueue((id, 2, (uint)(n >> 32)));
            return id;
        }

        private int Leaf(uint q, bool active)
        {
            string kind, label;
            switch (Port.TagOf(q))
            {
                case Tag.ERA: kind = "ERA"; label = "*"; break;
                case Tag.NUM: kind = "NUM"; label = Numb.Show(q >> 3); break;
                default:
                {
                    int fid = (int)((q >> 3) & 0x0FFF_FFFF);
                    var def = net.Book.Defs[fid];
                    kind = "REF";
                    label = "@" + def.Name;
                    break;
                }
            }
            return Add(new VizNode(pic.Nodes.Count, kind, label, q >> 3, active));
        }

        /// <summary>Queues the wire from (node, port) to what p stands for.</summary>
        public void Connect(int node, int port, uint p) => _queue.Enqueue((node, port, p));

        public void Drain()
        {
            while (_queue.Count > 0)
            {
                var (node, port, target) = _queue.Dequeue();
                uint q = net.Peek(target);
                uint tag = Port.TagOf(q);
                if (tag == Tag.VAR)
                {
                    // Both ends of a wire hold the same unset variable: pair them.
                    uint v = q >> 3;
                    if (_openVars.Remove(v, out var other)) pic.Wires.Add(new VizWire(other.Node, other.Port, node, port, false, null));
                    else _openVars[v] = (node, port);
                    continue;
                }
                if (tag >= Tag.CON)
                {
                    if (_byAddress.TryGetValue(q >> 3, out int known))
                    {
                        pic.Wires.Add(new VizWire(node, port, known, 0, false, null));
                        continue;
                    }
                    if (_byAddress.Count >= limit)
                    {
                        _frontier.Add((node, port, q));
                        continue;
                    }
                    pic.Wires.Add(new VizWire(node, port, NewBinary(q, false), 0, false, null));
                    continue;
                }
                pic.Wires.Add(new VizWire(node, port, Leaf(q, false), 0, false, null));
            }
            // Ends whose partner was not drawn: a dangling wire to a small point.
            foreach (var (v, end) in _openVars.OrderBy(kv => kv.Key))
            {
                int id = Add(new VizNode(pic.Nodes.Count, "VAR", "v" + v.ToString(CultureInfo.InvariantCulture), v, false));
                pic.Wires.Add(new VizWire(end.Node, end.Port, id, 0, false, null));
            }
        }

        /// <summary>One summary node per wire out of the drawn part, counting the nodes behind it.</summary>
        public void Summarise()
        {
            if (_frontier.Count == 0) return;
            var seen = new bool[net.NodeSpan + 1];
            foreach (uint a in _byAddress.Keys) seen[a] = true;
            var stack = new Stack<uint>();
            long hidden = 0;
            foreach (var (node, port, q) in _frontier)
            {
                long count = 0;
                stack.Push(q);
                while (stack.Count > 0)
                {
                    uint p = net.Peek(stack.Pop());
                    if (Port.TagOf(p) < Tag.CON) continue;
                    uint a = p >> 3;
                    if (seen[a]) continue;
                    seen[a] = true;
                    count++;
                    ulong n = net.NodeAt(a);
                    stack.Push((uint)(n >> 32));
                    stack.Push((uint)n);
                }
                if (count == 0)
                {
                    // Already counted behind an earlier summary: a wire to that part is still drawn.
                    if (_byAddress.TryGetValue(q >> 3, out int known)) pic.Wires.Add(new VizWire(node, port, known, 0, false, null));
                    continue;
                }
                hidden += count;
                int id = Add(new VizNode(pic.Nodes.Count, "MORE", string.Create(CultureInfo.InvariantCulture, $"{count:N0} more"), q >> 3, false) { Hidden = count });
                pic.Wires.Add(new VizWire(node, port, id, 0, false, null));
            }
            pic.HiddenNodes = hidden;
        }
    }

    public static string KindOf(uint port) => Port.TagOf(port) switch
    {
        Tag.CON => "CON",
        Tag.DUP => "DUP",
        Tag.OPR => "OPR",
        Tag.SWI => "SWI",
        Tag.ERA => "ERA",
        Tag.NUM => "NUM",
        Tag.REF => "REF",
        _ => "VAR",
    };

    // Output
    // ------

    private static string Fill(string kind) => kind switch
    {
        "CON" => "#cfe2ff",
        "DUP" => "#d1f0d5",
        "OPR" => "#ffe5b4",
        "SWI" => "#f3d1f4",
        "ERA" => "#e0e0e0",
        "NUM" => "#fff7c2",
        "REF" => "#d6f2f7",
        "AMB" => "#ffd54f",
        "ROOT" => "#ffffff",
        "MORE" => "#f5f5f5",
        _ => "#ffffff",
    };

    private static string Esc(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
            sb.Append(c switch { '&' => "&amp;", '<' => "&lt;", '>' => "&gt;", '"' => "&quot;", _ => c.ToString() });
        return sb.ToString();
    }

    /// <summary>Graphviz DOT. Binary nodes are a principal cell (●) over two auxiliary cells; wires are
    /// undirected, drawn from the principal side; active pairs are thick red edges labelled by rule.</summary>
    public string ToDot()
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.Append("graph net {\n");
        sb.Append("  graph [fontname=\"Helvetica\", fontsize=10, nodesep=0.25, ranksep=0.35, bgcolor=\"white\"");
        if (HiddenNodes > 0) sb.Append(inv, $", label=\"{NetNodes:N0} nodes, {HiddenNodes:N0} summarised (limit {Limit:N0})\", labelloc=t");
        sb.Append("];\n");
        sb.Append("  node [fontname=\"Helvetica\", fontsize=10, margin=0, height=0.2, width=0.2];\n");
        sb.Append("  edge [fontname=\"Helvetica\", fontsize=9];\n");
        foreach (var n in Nodes)
        {
            string color = n.Active ? "#d32f2f" : "#444444";
            string pen = n.Active ? "2" : "1";
            string tip = Esc(Tooltip(n));
            switch (n.Kind)
            {
                case "CON" or "DUP" or "OPR" or "SWI":
                    sb.Append(inv, $"  n{n.Id} [id=\"n{n.Id}\", class=\"k{n.Kind}\", shape=plain, tooltip=\"{tip}\", label=<<table border=\"{pen}\" cellborder=\"1\" cellspacing=\"0\" cellpadding=\"2\" color=\"{color}\" bgcolor=\"{Fill(n.Kind)}\"><tr><td port=\"p0\" colspan=\"2\">● {n.Kind} {n.Address}</td></tr><tr><td port=\"p1\"> </td><td port=\"p2\"> </td></tr></table>>];\n");
                    break;
                case "AMB":
                    sb.Append(inv, $"  n{n.Id} [id=\"n{n.Id}\", class=\"kAMB\", shape=plain, tooltip=\"{tip}\", label=<<table border=\"2\" cellborder=\"1\" cellspacing=\"0\" cellpadding=\"3\" color=\"#b28704\" bgcolor=\"{Fill(n.Kind)}\"><tr><td port=\"p0\" colspan=\"2\">● ∿ {Esc(n.Question ?? "")}<br/><font point-size=\"8\">{Esc(n.Location ?? "")} · {Esc(n.State ?? "")}</font></td></tr><tr><td port=\"p1\">args</td><td port=\"p2\">out</td></tr></table>>];\n");
                    break;
                case "MORE":
                    sb.Append(inv, $"  n{n.Id} [id=\"n{n.Id}\", class=\"kMORE\", shape=folder, style=\"filled,dashed\", fillcolor=\"{Fill(n.Kind)}\", tooltip=\"{tip}\", label=\"{Esc(n.Label)}\"];\n");
                    break;
                case "ROOT":
                    sb.Append(inv, $"  n{n.Id} [id=\"n{n.Id}\", class=\"kROOT\", shape=invhouse, tooltip=\"the root\", label=\"ROOT\"];\n");
                    break;
                case "VAR":
                    sb.Append(inv, $"  n{n.Id} [id=\"n{n.Id}\", class=\"kVAR\", shape=point, width=0.08, tooltip=\"{tip}\", label=\"\"];\n");
                    break;
                default:
                    sb.Append(inv, $"  n{n.Id} [id=\"n{n.Id}\", class=\"k{n.Kind}\", shape={(n.Kind == "REF" ? "box" : n.Kind == "NUM" ? "ellipse" : "circle")}, style=\"filled{(n.Kind == "REF" ? ",rounded" : "")}\", fillcolor=\"{Fill(n.Kind)}\", color=\"{color}\", penwidth={pen}, tooltip=\"{tip}\", label=\"{Esc(n.Label)}\"];\n");
                    break;
            }
        }
        foreach (var w in Wires)
        {
            string a = PortRef(w.From, w.FromPort), b = PortRef(w.To, w.ToPort);
            if (w.Active) sb.Append(inv, $"  {a} -- {b} [color=\"#d32f2f\", penwidth=3, label=\"{w.Rule}\", fontcolor=\"#d32f2f\"];\n");
            else sb.Append(inv, $"  {a} -- {b};\n");
        }
        sb.Append("}\n");
        return sb.ToString();
    }

    private string PortRef(int node, int port)
    {
        var n = Nodes[node];
        if (n.Ports == 1) return "n" + node.ToString(CultureInfo.InvariantCulture);
        string compass = port == 0 ? ":n" : ":s";
        return string.Create(CultureInfo.InvariantCulture, $"n{node}:p{port}{compass}");
    }

    private static string Tooltip(VizNode n) => n.Kind switch
    {
        "CON" or "DUP" or "OPR" or "SWI" => string.Create(CultureInfo.InvariantCulture, $"{n.Kind} node @{n.Address}: ports {n.Words}"),
        "AMB" => $"site {n.Question} at {n.Location} ({n.State})",
        "MORE" => string.Create(CultureInfo.InvariantCulture, $"{n.Hidden:N0} nodes not drawn"),
        _ => n.Label,
    };

    /// <summary>The same model as JSON: nodes, wires and the counts.</summary>
    public string ToJson(bool indented = true)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = indented, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            WriteJson(w);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    public void WriteJson(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteNumber("net_nodes", NetNodes);
        w.WriteNumber("drawn_nodes", Nodes.Count);
        w.WriteNumber("hidden_nodes", HiddenNodes);
        w.WriteNumber("limit", Limit);
        w.WriteNumber("interactions", Interactions);
        w.WriteNumber("pending_redexes", PendingRedexes);
        w.WriteStartArray("nodes");
        foreach (var n in Nodes)
        {
            w.WriteStartObject();
            w.WriteNumber("id", n.Id);
            w.WriteString("kind", n.Kind);
            w.WriteString("label", n.Label);
            if (n.Address >= 0) w.WriteNumber("address", n.Address);
            w.WriteNumber("ports", n.Ports);
            if (n.Active) w.WriteBoolean("active", true);
            if (n.Words != null) w.WriteString("words", n.Words);
            if (n.Question != null) w.WriteString("question", n.Question);
            if (n.Location != null) w.WriteString("location", n.Location);
            if (n.State != null) w.WriteString("state", n.State);
            if (n.Kind == "MORE") w.WriteNumber("hidden", n.Hidden);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("wires");
        foreach (var e in Wires)
        {
            w.WriteStartObject();
            w.WriteNumber("from", e.From);
            w.WriteNumber("from_port", e.FromPort);
            w.WriteNumber("to", e.To);
            w.WriteNumber("to_port", e.ToPort);
            if (e.Active)
            {
                w.WriteBoolean("active", true);
                w.WriteString("rule", e.Rule);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}

/// <summary>Runs Graphviz's `dot` (Debian's graphviz package; scripts/setup installs it) to lay a picture out as SVG.</summary>
public static class Graphviz
{
    public static string DotPath => Environment.GetEnvironmentVariable("LMN_DOT") is { Length: > 0 } p ? p : "dot";

    /// <summary>DOT text to SVG; throws <see cref="GraphvizMissing"/> when dot is not installed.</summary>
    public static string ToSvg(string dot, int timeoutMs = 60_000)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(DotPath, "-Tsvg")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
        };
        System.Diagnostics.Process proc;
        try { proc = System.Diagnostics.Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new GraphvizMissing($"Graphviz `{DotPath}` was not found: install it (`scripts/setup` does: apt-get install graphviz), or write DOT or JSON with -o FILE.dot / -o FILE.json");
        }
        using (proc)
        {
            var err = proc.StandardError.ReadToEndAsync();
            var outp = proc.StandardOutput.ReadToEndAsync();
            proc.StandardInput.Write(dot);
            proc.StandardInput.Close();
            if (!proc.WaitForExit(timeoutMs))
            {
                try { proc.Kill(); } catch (InvalidOperationException) { }
                throw new GraphvizMissing($"Graphviz `{DotPath}` took more than {timeoutMs / 1000} s; lower --limit");
            }
            if (proc.ExitCode != 0) throw new GraphvizMissing($"Graphviz `{DotPath}` failed: {err.Result.Trim()}");
            string svg = outp.Result;
            int start = svg.IndexOf("<svg", StringComparison.Ordinal);
            return start > 0 ? svg[start..] : svg;
        }
    }
}

/// <summary>Graphviz is missing or failed.</summary>
public sealed class GraphvizMissing(string message) : Exception(message);
