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
