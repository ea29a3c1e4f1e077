/**
 * How many hours a month a cron-scheduled window is open (KEDA's cron scaler: `start` opens it, `end`
 * closes it), so the estimate can count the GPU nodes a working-hours window holds at "idle". Pure.
 *
 * Method: over one common (non-leap) year, open the window at every minute `start` fires and close it
 * at every minute `end` fires, and average the open minutes over 12 months. The window's time zone shifts it but does
 * not change its length (a daylight-saving change moves one hour twice a year: ignored).
 */

/** Minutes in the simulated year (2027: 365 days, starting on a Friday). */
const yearMinutes = 365 * 24 * 60;

/** Month (1-12), day of month and weekday (0 = Sunday) of each day of 2027. */
const calendar = Array.from({ length: 365 }, (_, day) => {
  const t = new Date(Date.UTC(2027, 0, 1 + day));
  return { month: t.getUTCMonth() + 1, date: t.getUTCDate(), weekday: t.getUTCDay() };
});

const dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const monthNames = [
  "jan",
  "feb",
  "mar",
  "apr",
  "may",
  "jun",
  "jul",
  "aug",
  "sep",
  "oct",
  "nov",
  "dec",
];

/** The values one cron field allows: `*`, `*\/n`, `a`, `a-b`, `a-b/n`, lists, and day/month names. */
function field(text: string, min: number, max: number, names: string[] = []): Set<number> {
  const value = (v: string) => {
    const i = names.indexOf(v.toLowerCase());
    const n = i >= 0 ? i + min : Number(v);
    if (!Number.isInteger(n) || n < min || n > max + (names === dayNames ? 1 : 0)) {
      throw new Error(`cron field "${text}": ${v} is outside ${min}-${max}`);
    }
    return n;
  };
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const [range, stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`cron field "${text}": bad step`);
    const [lo, hi] =
      range === "*"
        ? [min, max]
        : range!.includes("-")
          ? range!.split("-").map(value)
          : [value(range!), stepText === undefined ? value(range!) : max];
    for (let v = lo!; v <= hi!; v += step) out.add(v);
  }
  return out;
}

/** The minutes of the simulated year at which a five-field cron schedule fires. */
function firings(expression: string): number[] {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5)
    throw new Error(`expected a five-field cron schedule, got "${expression}"`);
  const [m, h, dom, mon, dow] = parts as [string, string, string, string, string];
  const minutes = [...field(m, 0, 59)];
  const hours = [...field(h, 0, 23)];
  const days = field(dom, 1, 31);
  const months = field(mon, 1, 12, monthNames);
  // 0 and 7 are both Sunday.
  const weekdays = new Set([...field(dow, 0, 6, dayNames)].map((d) => d % 7));
  // Standard cron: when both day fields are restricted, either may match.
  const eitherDay = dom !== "*" && dow !== "*";
  const out: number[] = [];
  calendar.forEach((day, i) => {
    if (!months.has(day.month)) return;
    const d = days.has(day.date);
    const w = weekdays.has(day.weekday);
    if (!(eitherDay ? d || w : d && w)) return;
    for (const hour of hours) for (const minute of minutes) out.push(i * 1440 + hour * 60 + minute);
  });
  return out.sort((a, b) => a - b);
}

/**
 * The minutes of the simulated year during which a window is open (1) or closed (0): open from each
 * `start` firing, closed from each `end` firing (an end and a start in the same minute: open).
 * A window still open on New Year's Eve starts the year open (every year is the same).
 */
export function openMinutes(start: string, end: string): Uint8Array {
  const key = `${start}|${end}`;
  const known = walked.get(key);
  if (known) return known;
  const events = [
    ...firings(end).map((at) => ({ at, open: 0 })),
    ...firings(start).map((at) => ({ at, open: 1 })),
  ].sort((a, b) => a.at - b.at || a.open - b.open);
  const open = new Uint8Array(yearMinutes);
  // The state at New Year: what the last event of the (identical) previous year left.
  let state = events.length ? events[events.length - 1]!.open : 0;
  let from = 0;
  for (const e of events) {
    open.fill(state, from, e.at);
    state = e.open;
    from = e.at;
  }
  open.fill(state, from, yearMinutes);
  walked.set(key, open);
  return open;
}

/** Windows already walked (stacks repeat the same working hours). */
const walked = new Map<string, Uint8Array>();

/** A node group with replicas that run only inside scheduled windows (one model per node). */
export interface ScheduledGroup {
  /** Nodes at rest: max(minSize, replicas at rest). */
  readonly idleNodes: number;
  readonly maxSize: number;
  /** One replica each while its window is open. */
  readonly windows: readonly { readonly start: string; readonly end: string }[];
}

/**
 * Node-hours a month the windows add above the group's nodes at rest: at each minute the group runs
 * its idle nodes plus one per open window, at most maxSize.
 */
export function scheduledNodeHoursPerMonth(g: ScheduledGroup): number {
  if (g.windows.length === 0) return 0;
  const masks = g.windows.map((w) => openMinutes(w.start, w.end));
  let extraMinutes = 0;
  for (let i = 0; i < yearMinutes; i++) {
    let open = 0;
    for (const m of masks) open += m[i]!;
    extraMinutes += Math.min(g.maxSize, g.idleNodes + open) - g.idleNodes;
  }
  return extraMinutes / 60 / 12;
}
