using System.Runtime.CompilerServices;
using Lmn.Language;
using Lmn.Net;

namespace Lmn.Runtime;

/// <summary>A parked site the program reached (its value is wanted): the parked call, its table entry and source.</summary>
public readonly record struct ReachedSite(ParkedSite Call, SiteInfo Site, Text.SourceText Src);

/// <summary>
/// Site supervision (ARCHITECTURE.md §2-§3), in one place: the sites the net parked are taken and sorted
/// into dropped (their value was erased: never asked) and reached; a reached site is ready once its
/// arguments are closed. "When is a site ready?" is answered here and nowhere else.
/// </summary>
public sealed class SiteWatch(INetRunner net, CompiledProgram program)
{
    /// <summary>Parked sites not dropped: they were asked for by the program, so they need an oracle.</summary>
    public List<ReachedSite> Reached { get; } = [];

    /// <summary>Sites dropped (their value erased) before anyone asked them.</summary>
    public int Dropped { get; private set; }

    /// <summary>Sorts the sites parked since the last scan into dropped and <see cref="Reached"/>.</summary>
    public void ScanParked()
    {
        foreach (var pc in net.TakeParked())
        {
            var site = program.SiteOf(CompiledProgram.SiteDef(pc.SiteId));
            if (site == null) continue;
            if (DropIfErased(pc)) continue;
            Reached.Add(new ReachedSite(pc, site.Value.Info, site.Value.Src));
        }
    }

    /// <summary>Whether the site's value was erased while it waited; if so its arguments are erased too.</summary>
    public bool DropIfErased(ParkedSite site)
    {
        if (Port.TagOf(net.Peek(site.Out)) != Tag.ERA) return false;
        net.Erase(site.Args);
        Dropped++;
        return true;
    }

    /// <summary>
    /// Whether a site is ready to ask: its candidates and anchors are closed (rule 2 of ARCHITECTURE.md §2).
    /// Gives their ports (the layout is <see cref="SiteArgs"/>).
    /// </summary>
    public bool IsReady(ParkedSite site, out uint candidates, out uint anchors)
    {
        (candidates, anchors) = SiteArgs.Split(net, site.Args);
        return IsClosed(candidates) && IsClosed(anchors);
    }

    /// <summary>A closed value: no free wire, no duplicator, operator or switch still waiting, no pending site.</summary>
    public bool IsClosed(uint port)
    {
        // One stack per thread (two checks per site, a batch run's every input): cleared, not made again.
        var stack = t_stack ??= new Stack<uint>(64);
        stack.Clear();
        stack.Push(port);
        while (stack.Count > 0)
        {
            uint p = net.Peek(stack.Pop());
            switch (Port.TagOf(p))
            {
                case Tag.NUM or Tag.ERA or Tag.REF: break;
                case Tag.CON:
                {
                    ulong n = net.NodeAt(p >> 3);
                    stack.Push((uint)n);
                    stack.Push((uint)(n >> 32));
                    if (stack.Count > 1 << 12) t_stack = null;   // a wide value does not keep its stack on the thread
                    break;
                }
                default: return false;
            }
        }
        return true;
    }

    [ThreadStatic] private static Stack<uint>? t_stack;
}
