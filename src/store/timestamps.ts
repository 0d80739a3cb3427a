const DAY_US = 86_400_000_000;
const HOUR_US = 3_600_000_000;
const MINUTE_US = 60_000_000;

/** The day of the last call and its "YYYY-MM-DDT" (batches are in time order: one Date per day, not per row). */
let memoDay = Number.NaN;
let memoPrefix = '';

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

function six(n: number): string {
  const s = String(n);
  return s.length === 6 ? s : '000000'.slice(s.length) + s;
}

/**
 * µs since the epoch → ISO 8601 with microseconds ("2026-11-25T06:17:38.095123Z"), exact for timestamptz.
 * Written for bulk loads (two per stored flow): the time of day is plain arithmetic, only a new day costs a
 * Date. Throws a RangeError where Date does (beyond ±8.64e15 ms).
 */
export function microsToIso(us: number): string {
  const u = Math.floor(us);
  const day = Math.floor(u / DAY_US);
  if (day !== memoDay) {
    memoPrefix = new Date(day * 86_400_000).toISOString().slice(0, -13); // drop "HH:MM:SS.mmmZ"
    memoDay = day;
  }
  let r = u - day * DAY_US;
  const h = Math.floor(r / HOUR_US);
  r -= h * HOUR_US;
  const m = Math.floor(r / MINUTE_US);
  r -= m * MINUTE_US;
  const s = Math.floor(r / 1_000_000);
  return `${memoPrefix}${two(h)}:${two(m)}:${two(s)}.${six(r - s * 1_000_000)}Z`;
}

/** µs since the epoch → ISO 8601 in milliseconds (cut to the millisecond), as events and messages show it. */
export function microsToIsoMs(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString();
}

/** The start of the UTC minute containing `us`, as ms. */
export function minuteOf(us: number): number {
  return Math.floor(us / 60_000_000) * 60_000;
}
