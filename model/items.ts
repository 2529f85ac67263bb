/**
 * A list of (address, value) items per batch element, in CSR form: the unit of every message payload
 * (events forward; partial gradient sums and active-unit announcements backward).
 * Addresses are unit indices within a layer (or input indices for the network input).
 * Capacity grows by doubling when exceeded, so steady-state use allocates nothing.
 */
/** Where a kernel writes a list it produces: an ItemList, or something that splits the items on their way (runtime). */
export interface ItemSink {
  clear(): void;
  /** Items are appended in batch order: begin(b) for increasing b, push…, then end(). */
  begin(b: number): void;
  push(index: number, value: number): void;
  end(): void;
}

export class ItemList implements ItemSink {
  /** offsets[b]..offsets[b+1] are batch element b's items (valid after end()). */
  readonly offsets: Int32Array;
  index: Int32Array;
  value: Float32Array;
  private fill = 0;
  private open = 0;

  constructor(readonly batch: number, capacity = 16) {
    this.offsets = new Int32Array(batch + 1);
    this.index = new Int32Array(Math.max(1, capacity));
    this.value = new Float32Array(Math.max(1, capacity));
  }

  /**
   * A list over caller-provided memory (e.g. a SharedArrayBuffer mailbox). The capacity must cover the
   * largest possible list: growing would detach it from that memory, so it throws instead.
   */
  static over(batch: number, offsets: Int32Array, index: Int32Array, value: Float32Array): ItemList {
    const list = new ItemList(batch, 1);
    (list as { offsets: Int32Array }).offsets = offsets;
    list.index = index;
    list.value = value;
    list.fixed = true;
    list.open = batch;
    return list;
  }
  private fixed = false;

  /** Number of items (while building: so far). */
  get size(): number {
    // A closed list (or a view of one written elsewhere) reads its size from the offsets.
    return this.open === this.batch ? this.offsets[this.batch]! : this.fill;
  }

  clear(): void {
    this.offsets.fill(0);
    this.fill = 0;
    this.open = 0;
  }

  /** Items are appended in batch order: begin(b) for increasing b, push…, then end(). */
  begin(b: number): void {
    for (let k = this.open + 1; k <= b; k++) this.offsets[k] = this.fill;
    this.open = b;
  }

  push(index: number, value: number): void {
    const at = this.fill;
    if (at === this.index.length) this.grow(at * 2);
    this.index[at] = index;
    this.value[at] = value;
    this.fill = at + 1;
  }

  /** push(index[k], value[k]) for k < count (value null: 0), without a view to allocate (a per-step path). */
  pushMany(index: Int32Array, value: Float32Array | null, count: number): void {
    const at = this.fill;
    if (at + count > this.index.length) this.grow(Math.max(at + count, this.index.length * 2));
    const idx = this.index;
    const val = this.value;
    for (let k = 0; k < count; k++) idx[at + k] = index[k]!;
    if (value) for (let k = 0; k < count; k++) val[at + k] = value[k]!;
    else val.fill(0, at, at + count);
    this.fill = at + count;
  }

  /** Close the list after the last push. */
  end(): void {
    for (let k = this.open + 1; k <= this.batch; k++) this.offsets[k] = this.fill;
    this.open = this.batch;
  }

  ensureCapacity(n: number): void {
    if (n > this.index.length) this.grow(Math.max(n, this.index.length * 2));
  }

  private grow(cap: number): void {
    if (this.fixed) throw new Error(`item list over fixed memory is full (${this.index.length} items)`);
    const idx = new Int32Array(cap);
    idx.set(this.index);
    const val = new Float32Array(cap);
    val.set(this.value);
    this.index = idx;
    this.value = val;
  }

  /** Replace the contents with a copy of `src`. */
  copyFrom(src: ItemList): void {
    this.ensureCapacity(src.size);
    this.offsets.set(src.offsets);
    // element by element: no subarray views to allocate (nearThreshold copies a list every step)
    const n = src.size;
    for (let k = 0; k < n; k++) {
      this.index[k] = src.index[k]!;
      this.value[k] = src.value[k]!;
    }
    this.fill = src.size;
    this.open = this.batch;
  }
}
