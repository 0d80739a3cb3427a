/** µs since the epoch → ISO 8601 with microseconds ("2026-11-25T06:17:38.095123Z"), exact for timestamptz. */
export function microsToIso(us: number): string {
  const ms = Math.floor(us / 1000);
  const rest = Math.floor(us - ms * 1000);
  return `${new Date(ms).toISOString().slice(0, 23)}${String(rest).padStart(3, '0')}Z`;
}

/** The start of the UTC minute containing `us`, as ms. */
export function minuteOf(us: number): number {
  return Math.floor(us / 60_000_000) * 60_000;
}
