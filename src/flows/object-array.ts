/**
 * An empty array already of the elements kind that object items give it.
 *
 * `[]` starts out as an array of small integers and becomes an object array at its first push. V8
 * compiles a hot function for the array kinds it has seen there: when a long-lived array (a batch's items,
 * the pending observations) changed kind before that code was compiled, the next capture's fresh `[]`
 * does not match it, and the code — often the whole inlined packet loop — is thrown away and compiled
 * again. An array born with the object kind is the same kind from the first packet of every capture.
 */
export function objectArray<T>(): T[] {
  const a: (T | null)[] = [null];
  a.pop();
  return a as T[];
}
