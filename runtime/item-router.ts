/**
 * An item sink that splits a kernel's output list by the owner of each address as the kernel writes it: the
 * partial gradient sums a group produces go straight into the mailboxes of the actors that own their units,
 * in the order the kernel wrote them (one copy of each item instead of a list plus a routing pass).
 */
import type { ItemList, ItemSink } from '../model/items.js';

export class ItemRouter implements ItemSink {
  /**
   * `outs`: mailboxes indexed by actor id (only the destinations are set); `owner`: address → actor id;
   * `dests`: the actor ids of the layer the addresses belong to.
   */
  constructor(
    readonly outs: readonly ItemList[],
    private readonly owner: Int32Array,
    readonly dests: readonly number[],
  ) {}

  clear(): void {
    for (const d of this.dests) this.outs[d]!.clear();
  }

  begin(b: number): void {
    for (const d of this.dests) this.outs[d]!.begin(b);
  }

  push(index: number, value: number): void {
    this.outs[this.owner[index]!]!.push(index, value);
  }

  end(): void {
    for (const d of this.dests) this.outs[d]!.end();
  }
}
