// Durations on fleetctl's command line: `90`, `90s`, `15m`, `24h`, `7d`, or several (`1h30m`). Pure.

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds, or undefined when `text` is not a duration. */
export function parseDurationSeconds(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const parts = [...text.matchAll(/(\d+)([smhd])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) return undefined;
  return parts.reduce((n, p) => n + Number(p[1]) * (UNIT_SECONDS[p[2] as string] ?? 0), 0);
}
