/**
 * Serialises async critical sections inside one JavaScript realm. Each caller waits for
 * the previous one, in arrival order; a failure releases the next caller.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  run<T>(section: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(section);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
