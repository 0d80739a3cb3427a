/**
 * Iterates an async source one item ahead: as soon as the consumer has an item, the source starts on the
 * next, so work the source does on this thread (decoding a capture) runs while the consumer awaits I/O
 * (the database committing the previous batch) instead of after it. At most one item is produced ahead
 * (bounded memory). Items must not be changed by the source once yielded. Stopping early (break, return,
 * throw) lets the item in production settle and closes the source; an error the source raises ahead
 * surfaces when the consumer asks for that item, never as an unhandled rejection.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let next: Promise<IteratorResult<T>> | null = it.next();
  let finished = false;
  try {
    for (;;) {
      const r: IteratorResult<T> = await next;
      next = null;
      if (r.done) {
        finished = true;
        return;
      }
      next = it.next();
      // Observed here so a consumer that stops before asking for it leaves no unhandled rejection.
      next.catch(() => undefined);
      yield r.value;
    }
  } catch (e) {
    finished = true; // the source threw: it is closed already
    throw e;
  } finally {
    if (!finished) {
      await next?.catch(() => undefined);
      await it.return?.();
    }
  }
}

/**
 * readAhead begun at once: the source starts on its first item before anyone asks (an ingest decodes its
 * first batch while the database opens and migrates). Iterate it once; when it is not going to be iterated
 * after all, close() it, which lets the item in production settle and closes the source.
 */
export class ReadAheadNow<T> implements AsyncIterable<T> {
  private readonly it: AsyncGenerator<T>;
  private first: Promise<IteratorResult<T>> | null;

  constructor(source: AsyncIterable<T>) {
    this.it = readAhead(source);
    this.first = this.it.next();
    // Raised when iterated; until then a failure must not count as an unhandled rejection.
    this.first.catch(() => undefined);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    const first = this.first;
    if (first === null) throw new Error('ReadAheadNow is iterated once');
    this.first = null;
    try {
      for (let r = await first; !r.done; r = await this.it.next()) yield r.value;
    } finally {
      await this.it.return(undefined);
    }
  }

  async close(): Promise<void> {
    const first = this.first;
    this.first = null;
    await first?.catch(() => undefined);
    await this.it.return(undefined);
  }
}
