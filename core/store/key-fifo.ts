/**
 * Keys in the order they were added, taken from the front: a queue without `Array#shift`'s copying.
 *
 * Why the in-memory reply cache needs one beside its Map: dropping expired entries by iterating the Map from
 * its front walks every entry deleted before (V8 leaves a hole per delete until the table is rebuilt), so at
 * 10k+ messages a second each batch of removals re-walked hundreds of thousands of holes: 2 µs a message.
 */
export class KeyFifo {
  private keys: string[] = []
  private head = 0

  get size(): number {
    return this.keys.length - this.head
  }

  push(key: string): void {
    this.keys.push(key)
  }

  /** The oldest key still queued. */
  peek(): string | undefined {
    return this.head < this.keys.length ? this.keys[this.head] : undefined
  }

  /** Drops the oldest key. The array is cut down once half of it is taken, so memory follows the size. */
  shift(): void {
    if (this.head >= this.keys.length) return
    this.keys[this.head++] = ''
    if (this.head >= 1024 && this.head * 2 >= this.keys.length) {
      this.keys = this.keys.slice(this.head)
      this.head = 0
    }
  }
}
