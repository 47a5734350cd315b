using System.Globalization;
using System.Text;
using CsCheck;

namespace Lmn.Tests.Net;

/// <summary>
/// Generates random valid `.hvm` programs for the engine's differential tests: every variable used exactly
/// twice; trees of CON, DUP, OPR and SWI nodes; numbers of every kind (u24, i24 and f24 literals, every
/// operator symbol, operators partially applied to every kind of operand, the three casts); erasers;
/// references; bounded recursion (a countdown @rec whose non-zero branch calls itself twice on n-1
/// through a DUP and combines the two results with a random operator or node), and definitions that call
/// only later ones, so most programs terminate. Random nets may still grow without end (a DUP meeting a
/// CON that feeds back): the tests run them under a small memory limit and skip those that run out.
/// </summary>
public sealed class NetGen : Gen<string>
{
    public override string Generate(PCG pcg, Size? min, out Size size)
    {
        var b = new Builder(pcg);
        string text = b.Program();
        size = new Size((ulong)text.Length);
        return text;
    }

    private static readonly string[] Ops = ["+", "-", ":-", "*", "/", ":/", "%", ":%", "=", "!", "<", ">", "&", "|", "^", "<<", ":<<", ">>", ":>>"];

    private sealed class Builder(PCG pcg)
    {
        // A variable to be named (not '%': that is an operator).
        private const char HoleChar = '\u0007';
        private const string Hole = "\u0007";
        private int _fresh;
        private bool _closed; // building @base: no references
        private readonly int _defs = 1 + (int)pcg.Next(4);

        private int R(int n) => (int)pcg.Next((uint)n);

        private bool Chance(int percent) => R(100) < percent;

        public string Number()
        {
            switch (R(10))
            {
                case 0: return (pcg.Next() & 0xFF_FFFF).ToString(CultureInfo.InvariantCulture);
                case 1: return (R(2) == 0 ? "+" : "-") + R(1000).ToString(CultureInfo.InvariantCulture);
                case 2:
                {
                    string[] fs = ["1.5", "-0.25", "3.0", "0.0", "-0.0", "+inf", "-inf", "+NaN", "0.001", "430068.0", "25000000.5"];
                    return fs[R(fs.Length)];
                }
                case 3: return "[" + Ops[R(Ops.Length)] + "]";
                case 4: return "[" + Ops[R(Ops.Length)] + Small() + "]";
                case 5: return "[" + (R(3) switch { 0 => "u24", 1 => "i24", _ => "f24" }) + "]";
                default: return R(6).ToString(CultureInfo.InvariantCulture);
            }
        }

        private string Small() => R(4) switch
        {
            0 => (R(2) == 0 ? "+" : "-") + R(9).ToString(CultureInfo.InvariantCulture),
            1 => R(3) == 0 ? "0.5" : "2.0",
            _ => (1 + R(7)).ToString(CultureInfo.InvariantCulture),
        };

        /// <summary>A random tree; variables are written as holes and named in pairs afterwards.</summary>
        private string Tree(int depth, int fromDef)
        {
            if (depth <= 0 || Chance(30))
            {
                int k = R(10);
                if (k < 4) return Hole;
                if (k < 7) return Number();
                if (k < 8) return "*";
                return Ref(fromDef);
            }
            string a = Tree(depth - 1, fromDef), b = Tree(depth - 1, fromDef);
            return R(8) switch
            {
                0 or 1 or 2 => $"({a} {b})",
                3 or 4 => $"{{{a} {b}}}",
                5 or 6 => $"$({a} {b})",
                _ => $"?({a} {b})",
            };
        }

        private string Ref(int fromDef)
        {
            // Only later definitions (no unbounded recursion) and the bounded @rec.
            if (_closed) return "*";
            // Rarely the recursive @rec (a big number met there may recurse too deep: such runs are skipped).
            if (Chance(10)) return "@rec";
            var names = new List<string> { "@base" };
            for (int i = fromDef + 1; i < _defs; i++) names.Add("@f" + i.ToString(CultureInfo.InvariantCulture));
            return names[R(names.Count)];
        }

        /// <summary>Names the holes of a definition in random pairs (an odd one out becomes '*').</summary>
        private string Pair(string body)
        {
            int n = body.Count(c => c == HoleChar);
            var names = new List<string>();
            for (int i = 0; i < n / 2; i++)
            {
                string v = "v" + (_fresh++).ToString(CultureInfo.InvariantCulture);
                names.Add(v);
                names.Add(v);
            }
            if (n % 2 == 1) names.Add("*");
            for (int i = names.Count - 1; i > 0; i--)
            {
                int j = R(i + 1);
                (names[i], names[j]) = (names[j], names[i]);
            }
            var sb = new StringBuilder();
            int k = 0;
            foreach (char c in body)
            {
                if (c == HoleChar) sb.Append(names[k++]);
                else sb.Append(c);
            }
            return sb.ToString();
        }

        private string Def(string name, int index)
        {
            var sb = new StringBuilder();
            // Often shaped as a function of one or two arguments, as Bend emits them.
            string root = R(3) switch
            {
                0 => $"({Hole} {Hole})",
                1 => $"({Hole} ({Hole} {Hole}))",
                _ => Tree(3, index),
            };
            sb.Append(root);
            if (Chance(30))
            {
                // Bend's `x op y` on the arguments: the operator's first port is a variable whose other end
                // meets the caller's number first (OPER must still see a variable there).
                string n = (_fresh++).ToString(CultureInfo.InvariantCulture);
                string head = R(3) switch { 0 => Number(), 1 => Ref(index), _ => Tree(1, index) };
                sb.Clear().Append($"(a{n} (b{n} r{n})) & {head} ~ $(a{n} $(b{n} r{n}))");
                if (Chance(50)) sb.Append($" & {Tree(1, index)} ~ $([{Ops[R(Ops.Length)]}] {Hole})");
            }
            int redexes = R(3);
            for (int i = 0; i < redexes; i++)
                sb.Append(Chance(20) ? "\n  &! " : "\n  & ").Append(Tree(2, index)).Append(" ~ ").Append(Tree(2, index));
            return $"@{name} = {Pair(sb.ToString())}\n";
        }

        public string Program()
        {
            var sb = new StringBuilder();
            // main: calls @rec on a small count and the @f definitions on random arguments.
            string arg = Chance(50) ? $"{Number()} ({Number()} s)" : $"{Tree(2, -1)} s";
            string main = Chance(25) ? $"r & @rec ~ ({R(5)} r)" : $"(r s) & @rec ~ ({R(5)} r) & @f0 ~ ({arg})";
            // Often also a tail-recursive loop of up to 600 steps (past the compiled code's 256 jumps
            // per entry): a counter (the stress shape, whose step hands the call on through a variable),
            // an accumulator with an operator (a safe definition: no DUP), one that copies the count
            // through a DUP and passes it on through a second definition, and a cycle of four
            // definitions (tail calls between definitions: the engine's trampoline).
            if (Chance(40))
            {
                string n = R(4) == 0 ? R(3).ToString(CultureInfo.InvariantCulture) : R(600).ToString(CultureInfo.InvariantCulture);
                string call = R(4) switch
                {
                    3 => $"@m0 ~ ({n} t)",
                    0 => $"@lp ~ ({n} t)",
                    1 => $"@lpa ~ ({n} ({Number()} t))",
                    _ => $"@lpd ~ ({n} ({Small()} t))",
                };
                main = R(3) switch
                {
                    0 => $"t & {call}",
                    1 => $"(t q) & {call} & @rec ~ ({R(5)} q)",
                    _ => $"(t {Hole}) & {call} & {Hole} ~ {Tree(1, -1)}",
                };
            }
            sb.Append("@main = ").Append(Pair(main)).Append('\n');
            sb.Append("@lp = (?((0 @lp.n) r) r)\n@lp.n = c & @lp ~ c\n");
            sb.Append("@m0 = (?((0 @m1) r) r)\n@m1 = c & @m2 ~ c\n@m2 = c & @m3 ~ c\n@m3 = c & @m0 ~ c\n");
            sb.Append($"@lpa = (?(((a a) @lpa.s) r) r)\n@lpa.s = (p (a r)) & a ~ $([{Ops[R(3)]}] b) & @lpa ~ (p (b r))\n");
            sb.Append($"@lpd = (?(((a a) @lpd.s) r) r)\n@lpd.s = ({{p q}} (a r)) & q ~ $([{Ops[R(Ops.Length)]}] $(a b)) & @lpd.t ~ (p (b r))\n@lpd.t = (p (b r)) & @lpd ~ (p (b r))\n");
            // rec(n) = n == 0 ? base : comb(rec(n-1), rec(n-1))
            sb.Append("@rec = (?((@base @rec.s) r) r)\n");
            string comb = R(4) switch
            {
                0 => $"x ~ $([{Ops[R(Ops.Length)]}] $(y r))",
                1 => "r ~ (x y)",
                2 => $"x ~ $({Number()} *) & y ~ $([+] r)",
                _ => "r ~ {x y}",
            };
            sb.Append($"@rec.s = ({{p q}} r) & @rec ~ (p x) & @rec ~ (q y) & {comb}\n");
            _closed = true;
            sb.Append("@base = ").Append(Pair(Tree(2, _defs))).Append('\n');
            _closed = false;
            for (int i = 0; i < _defs; i++) sb.Append(Def("f" + i.ToString(CultureInfo.InvariantCulture), i));
            return sb.ToString();
        }
    }
}
