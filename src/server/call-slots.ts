/**
 * The slots of this service-worker lifetime's write-ahead records (store/open-calls.ts): a call
 * takes the lowest free slot for its request entry and gives it back once its closing entry has
 * committed, never before: until then the record is what recovery would find the call by.
 */
export class CallSlots {
  /** Free slots below `next`, highest first (the lowest is taken from the end). */
  private readonly free: number[] = [];
  private next = 0;

  take(): number {
    return this.free.pop() ?? this.next++;
  }

  release(slot: number): void {
    const at = this.free.findIndex((s) => s < slot);
    this.free.splice(at === -1 ? this.free.length : at, 0, slot);
  }

  /** Slots taken and not given back. */
  get held(): number {
    return this.next - this.free.length;
  }
}
