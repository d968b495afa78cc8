// Unmanaged memory for the JS binding: tables and scratch buffers are allocated with the TLSF
// heap (runtime "minimal") and freed explicitly, so nothing is left to a garbage collector and no
// managed object is created on a hot path.

/** Allocates `size` bytes, 16-byte aligned; returns the pointer. */
export function alloc(size: usize): usize {
  return heap.alloc(size);
}

/** Frees a block returned by `alloc`. */
export function free(ptr: usize): void {
  heap.free(ptr);
}
