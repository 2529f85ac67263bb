/**
 * 2-D grids (of chips, or of routers on a chip) and dimension-order (X then Y) routes on them.
 * A node id is y·width + x. A directed link id is node·4 + direction (0: +X, 1: −X, 2: +Y, 3: −Y).
 */

export interface Grid {
  width: number;
  height: number;
  /** Torus: links wrap around at the edges, and a route takes the shorter way (ties: the + direction). */
  wrap: boolean;
}

export const PLUS_X = 0;
export const MINUS_X = 1;
export const PLUS_Y = 2;
export const MINUS_Y = 3;

export const nodeX = (g: Grid, id: number): number => id % g.width;
export const nodeY = (g: Grid, id: number): number => Math.floor(id / g.width);
export const nodeId = (g: Grid, x: number, y: number): number => y * g.width + x;

/** Signed number of steps along one axis of length n from a to b (wrap: the shorter way, ties +). */
function axisSteps(n: number, wrap: boolean, a: number, b: number): number {
  const d = b - a;
  if (!wrap) return d;
  const fwd = ((d % n) + n) % n;
  return fwd <= n - fwd ? fwd : fwd - n;
}

/** Hop count of the X-then-Y route from a to b. */
export function distance(g: Grid, a: number, b: number): number {
  return (
    Math.abs(axisSteps(g.width, g.wrap, nodeX(g, a), nodeX(g, b))) +
    Math.abs(axisSteps(g.height, g.wrap, nodeY(g, a), nodeY(g, b)))
  );
}

/** Calls `link(linkId)` for every link of the X-then-Y route from a to b, in order. */
export function walkRoute(g: Grid, a: number, b: number, link: (linkId: number) => void): void {
  let x = nodeX(g, a);
  let y = nodeY(g, a);
  const dx = axisSteps(g.width, g.wrap, x, nodeX(g, b));
  const dy = axisSteps(g.height, g.wrap, y, nodeY(g, b));
  for (let i = 0; i < Math.abs(dx); i++) {
    link(nodeId(g, x, y) * 4 + (dx > 0 ? PLUS_X : MINUS_X));
    x = (x + (dx > 0 ? 1 : -1) + g.width) % g.width;
  }
  for (let i = 0; i < Math.abs(dy); i++) {
    link(nodeId(g, x, y) * 4 + (dy > 0 ? PLUS_Y : MINUS_Y));
    y = (y + (dy > 0 ? 1 : -1) + g.height) % g.height;
  }
}

/**
 * The multicast tree from `src` to every node of `targets`: the union of the X-then-Y routes. Routes from one
 * source share their common prefixes, so the union is a tree and a packet replicated at its branch points
 * crosses each of its links once. Returns the set of directed link ids.
 */
export function multicastTree(g: Grid, src: number, targets: Iterable<number>): Set<number> {
  const links = new Set<number>();
  for (const t of targets) if (t !== src) walkRoute(g, src, t, (l) => links.add(l));
  return links;
}

/** The node a link leads to. */
export function linkTarget(g: Grid, linkId: number): number {
  const from = Math.floor(linkId / 4);
  const x = nodeX(g, from);
  const y = nodeY(g, from);
  switch (linkId % 4) {
    case PLUS_X: return nodeId(g, (x + 1) % g.width, y);
    case MINUS_X: return nodeId(g, (x - 1 + g.width) % g.width, y);
    case PLUS_Y: return nodeId(g, x, (y + 1) % g.height);
    default: return nodeId(g, x, (y - 1 + g.height) % g.height);
  }
}

/** Node ids in boustrophedon order (row 0 left to right, row 1 right to left, …): consecutive nodes are neighbours. */
export function snakeOrder(g: Grid): number[] {
  const out: number[] = [];
  for (let y = 0; y < g.height; y++) {
    for (let i = 0; i < g.width; i++) out.push(nodeId(g, y % 2 === 0 ? i : g.width - 1 - i, y));
  }
  return out;
}
