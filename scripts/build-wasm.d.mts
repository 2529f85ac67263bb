/** The .wat source of the SIMD primitives (model/simd.wat) assembled to wasm bytes. */
export function assembleSimd(): Promise<Uint8Array>;
