using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Lmn.Regions;

/// <summary>
/// The sparse forwarding map: an open-addressing hash table from uint keys to nonzero uint values, with
/// linear probing, for moves out of a huge region that reach only a little of it. An entry is one ulong,
/// (value &lt;&lt; 32) | key, so a probe touches one word; keys are below 2^31, so 0xFFFFFFFF marks an empty
/// slot. Reused across moves: Clear keeps the capacity.
/// </summary>
public sealed class ForwardTable
{
    private const ulong Empty = ulong.MaxValue;
    private const uint MinCapacity = 64;

    private ulong[] _slots;
    private int _shift;      // 32 - log2(capacity): Fibonacci hashing keeps the top bits
    private uint _mask;
    private uint _count;

    public ForwardTable(uint capacity = MinCapacity)
    {
        uint cap = BitOperations.RoundUpToPowerOf2(Math.Max(capacity, MinCapacity));
        _slots = new ulong[cap];
        Array.Fill(_slots, Empty);
        _shift = 32 - BitOperations.Log2(cap);
        _mask = cap - 1;
    }

    /// <summary>Number of keys.</summary>
    public uint Count => _count;

    /// <summary>Number of slots (a power of two, kept at most half full).</summary>
    public int Capacity => _slots.Length;

    /// <summary>The value for `key`, or 0 if it has none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Get(uint key)
    {
        Debug.Assert(key < 0x8000_0000u, $"key {key:X8} out of range");
        ref ulong slots = ref MemoryMarshal.GetArrayDataReference(_slots);
        uint i = (key * 0x9E37_79B9u) >> _shift;
        while (true)
        {
            // Safe: i is masked to the array's power-of-two length.
            ulong e = Unsafe.Add(ref slots, (nint)i);
            if ((uint)e == key) return (uint)(e >> 32);
            if (e == Empty) return 0;
            i = (i + 1) & _mask;
        }
    }

    /// <summary>Adds a key that is not yet present.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(uint key, uint value)
    {
        Debug.Assert(key < 0x8000_0000u && value != 0, $"add {key:X8} -> {value}");
        if ((_count + 1) * 2 > (uint)_slots.Length) Grow();
        Insert(_slots, _shift, _mask, key, value);
        _count++;
    }

    private static void Insert(ulong[] slots, int shift, uint mask, uint key, uint value)
    {
        uint i = (key * 0x9E37_79B9u) >> shift;
        while (slots[i] != Empty)
        {
            Debug.Assert((uint)slots[i] != key, $"key {key:X8} added twice");
            i = (i + 1) & mask;
        }
        slots[i] = ((ulong)value << 32) | key;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow()
    {
        var old = _slots;
        var slots = new ulong[old.Length * 2];
        Array.Fill(slots, Empty);
        int shift = _shift - 1;
        uint mask = (uint)slots.Length - 1;
        foreach (ulong e in old)
            if (e != Empty) Insert(slots, shift, mask, (uint)e, (uint)(e >> 32));
        _slots = slots;
        _shift = shift;
        _mask = mask;
    }

    /// <summary>The entries as (key, value) pairs, in slot order.</summary>
    public Enumerator GetEnumerator() => new(_slots);

    /// <summary>Walks the occupied slots.</summary>
    public ref struct Enumerator(ulong[] slots)
    {
        private int _i = -1;

        public readonly (uint Key, uint Value) Current => ((uint)slots[_i], (uint)(slots[_i] >> 32));

        public bool MoveNext()
        {
            while (++_i < slots.Length)
                if (slots[_i] != Empty) return true;
            return false;
        }
    }

    /// <summary>Removes every key, keeping the capacity.</summary>
    public void Clear()
    {
        if (_count == 0) return;
        Array.Fill(_slots, Empty);
        _count = 0;
    }
}
