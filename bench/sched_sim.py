#!/usr/bin/env python3
"""A model of how the engine's scheduling scales past two cores (docs/engine.md, Threads).

Not a measurement: the machine has 2 cores. The workload is the shape of the benchmarks: a tree of
calls, each internal call costing C interactions and then forking two calls, each leaf a serial run of
W interactions (sum_tree/sum_rec: D=20, short leaves; stress: D=8, leaves of 65536*6). Time advances in
ticks of 128 interactions per worker, the interval at which a busy worker looks at the pool.

  sharing  (the engine today, Parallel.cs): one pool under one lock. A busy worker whose tick ends
           while someone is idle and the pool is empty moves the older half of its bag to the pool; an
           idle worker takes half of the pool. Each lock operation holds the lock for LOCK
           interactions' worth of time, so at most 128/LOCK operations fit in a tick; a worker whose
           operation does not fit waits for the next tick.
  stealing (per-worker deques): an idle worker picks a random victim and takes the oldest task of its
           deque (one CAS, STEAL interactions of its own tick), no shared lock.

Prints the speedup (total work / (ticks * 128)) per worker count for both policies.
Usage: bench/sched_sim.py [--depth D] [--leaf W] [--call C]
"""
import argparse
import random

TICK = 128
LOCK = 16   # interactions' worth of time a pool operation holds the lock (copying ~64 redexes, the lock's cache line)
STEAL = 8   # a steal attempt: reading the victim's deque bounds and one CAS


def simulate(workers, depth, leaf, call, policy, seed=1):
    rng = random.Random(seed)
    # A task is [depth, work left]; depth 0 is a leaf.
    bags = [[] for _ in range(workers)]
    bags[0].append([depth, call if depth > 0 else leaf])
    pool = []
    total = (2 ** depth - 1) * call + 2 ** depth * leaf
    done = 0
    ticks = 0
    while done < total:
        ticks += 1
        lock_budget = TICK // LOCK
        order = list(range(workers))
        rng.shuffle(order)
        for w in order:
            bag = bags[w]
            budget = TICK
            if not bag:
                if policy == "sharing":
                    if pool and lock_budget > 0:
                        lock_budget -= 1
                        k = (len(pool) + 1) // 2
                        bag.extend(pool[-k:])
                        del pool[-k:]
                        budget -= LOCK
                    else:
                        continue
                else:
                    victim = rng.randrange(workers)
                    budget -= STEAL
                    if victim != w and len(bags[victim]) > 1:
                        bag.append(bags[victim].pop(0))
                    else:
                        continue
            while budget > 0 and bag:
                t = bag[-1]
                use = min(budget, t[1])
                t[1] -= use
                budget -= use
                done += use
                if t[1] == 0:
                    bag.pop()
                    if t[0] > 0:
                        d = t[0] - 1
                        cost = call if d > 0 else leaf
                        bag.append([d, cost])
                        bag.append([d, cost])
            if policy == "sharing":
                hungry = not pool and any(not b for b in bags)
                if hungry and len(bag) > 1 and lock_budget > 0:
                    lock_budget -= 1
                    k = len(bag) // 2
                    pool.extend(bag[:k])
                    del bag[:k]
    return total / (ticks * TICK)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--depth", type=int, default=16)
    ap.add_argument("--leaf", type=int, default=8)
    ap.add_argument("--call", type=int, default=12)
    a = ap.parse_args()
    print(f"tree depth {a.depth}, leaf {a.leaf} interactions, call {a.call}; lock op {LOCK}, steal {STEAL} (interactions)")
    print(f"{'workers':>7} {'sharing':>8} {'stealing':>9}")
    for n in (1, 2, 4, 8, 16, 32, 64):
        s = simulate(n, a.depth, a.leaf, a.call, "sharing")
        t = simulate(n, a.depth, a.leaf, a.call, "stealing")
        print(f"{n:>7} {s:>7.2f}x {t:>8.2f}x")


if __name__ == "__main__":
    main()
