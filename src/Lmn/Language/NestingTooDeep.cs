using System.Runtime.CompilerServices;

namespace Lmn.Language;

/// <summary>
/// A compiler pass met nesting deeper than its stack holds (the passes follow chains of lets, else-ifs,
/// list elements and candidates in loops; other nesting, such as a million parentheses, recurses).
/// LmnDriver.Compile reports it as a located error instead of letting the process overflow its stack.
/// </summary>
public sealed class NestingTooDeep(int offset, string where)
    : Exception($"the program is nested too deeply for the compiler {where}")
{
    /// <summary>Where in the source the nesting was met (-1: not known).</summary>
    public int Offset { get; } = offset;

    /// <summary>Throws when less than the runtime's safety margin of stack is left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check(int offset, string where)
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack()) throw new NestingTooDeep(offset, where);
    }
}
