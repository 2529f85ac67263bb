/**
 * Training traffic per (source, destination) actor pair, from the runtime's pair counters (docs/figures.md):
 * summary.json's `train.pairs` holds the run's totals, each `step` record of metrics.jsonl the items since the
 * previous one (`pairs_items`, flat; see pairItems).
 */
import type { RuntimeCounters } from '../runtime/coordinator.js';

/** pairs[src][dst] = { forward: {packets, items, bytes}, backward: {…} }, as Trainer.counters() returns it. */
export type PairCounts = RuntimeCounters['pairs'];

const DIRECTIONS = ['forward', 'backward'] as const;
const FIELDS = ['packets', 'items', 'bytes'] as const;

export function zeroPairs(actors: number): PairCounts {
  const zero = () => ({ packets: 0, items: 0, bytes: 0 });
  return Array.from({ length: actors }, () => Array.from({ length: actors }, () => ({ forward: zero(), backward: zero() })));
}

/** into += sign × add, pair by pair (both of the same actor count). */
export function addPairs(into: PairCounts, add: PairCounts, sign = 1): PairCounts {
  into.forEach((row, s) =>
    row.forEach((cell, d) => {
      for (const dir of DIRECTIONS) for (const f of FIELDS) cell[dir][f] += sign * add[s]![d]![dir][f];
    }),
  );
  return into;
}

export function diffPairs(after: PairCounts, before: PairCounts): PairCounts {
  return addPairs(addPairs(zeroPairs(after.length), after), before, -1);
}

/**
 * The items of every pair, flat: [forward, backward] for (0,0), (0,1), …, (0,G−1), (1,0), …; the items actor
 * src sent to dst are at 2·(src·G + dst) (forward) and 2·(src·G + dst) + 1 (backward).
 */
export function pairItems(p: PairCounts): number[] {
  return p.flatMap((row) => row.flatMap((cell) => [cell.forward.items, cell.backward.items]));
}

/** Pair counts stored in a checkpoint's meta; null unless they are there for exactly `actors` actors. */
export function storedPairs(v: unknown, actors: number): PairCounts | null {
  if (!Array.isArray(v) || v.length !== actors) return null;
  const out = zeroPairs(actors);
  for (let s = 0; s < actors; s++) {
    const row: unknown = v[s];
    if (!Array.isArray(row) || row.length !== actors) return null;
    for (let d = 0; d < actors; d++)
      for (const dir of DIRECTIONS)
        for (const f of FIELDS) {
          const x = (row[d] as Record<string, Record<string, unknown> | undefined> | undefined)?.[dir]?.[f];
          if (typeof x !== 'number' || !Number.isFinite(x)) return null;
          out[s]![d]![dir][f] = x;
        }
  }
  return out;
}
