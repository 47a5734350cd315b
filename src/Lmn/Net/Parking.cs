using System.Runtime.CompilerServices;

namespace Lmn.Net;

/// <summary>A CALL of an oracle site's definition, left in the net: `@site ~ node`, node usually `(args out)`.</summary>
public readonly record struct ParkedCall(int Fid, uint Ref, uint Node);

/// <summary>
/// Oracle sites. A definition marked Park is never expanded: the redex `@site ~ (args out)` is set aside
/// in Parked, uncounted, and the rest of the net reduces around it. A supervisor reads the arguments
/// back (NodeAt), and answers by linking a value to `out` (Graft).
/// </summary>
public sealed unsafe partial class Engine
{
    private readonly List<ParkedCall> _parked = [];

    /// <summary>Site calls set aside so far, in the order they were reached.</summary>
    public IReadOnlyList<ParkedCall> Parked => _parked;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ParkCall(uint a, uint b)
    {
        _parked.Add(new ParkedCall((int)((a >> 3) & 0x0FFF_FFFF), a, b));
        _itrs--; // Normalize counts every rule it dispatches; parking is not an interaction.
    }

    /// <summary>Removes a parked call from the list (its node stays in the net until grafted or erased).</summary>
    public void Unpark(int index) => _parked.RemoveAt(index);

    /// <summary>Links a port into the net and reduces to normal form again (how an answer is grafted).</summary>
    public void Graft(uint port, uint into)
    {
        Link(port, into);
        Normalize();
    }

    /// <summary>
    /// Expands a reference on its own and reduces it: the read-back forces a definition that stands
    /// for data (a constant such as `def xs = [1, 2]`) this way. Returns the port of its normal form.
    /// </summary>
    public uint Force(uint refPort)
    {
        uint v = AllocVar();
        _vars[v] = Port.NONE;
        _itrs++;
        Call(refPort, v << 3);
        Normalize();
        return Peek(v << 3);
    }
}
