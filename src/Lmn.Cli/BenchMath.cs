namespace Lmn.Cli;

/// <summary>What the benchmarks compute alike.</summary>
internal static class BenchMath
{
    /// <summary>The median (the mean of the middle two for an even count; 0 for none); the values are not reordered.</summary>
    public static double Median(IReadOnlyCollection<double> xs)
    {
        if (xs.Count == 0) return 0;
        var s = xs.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
