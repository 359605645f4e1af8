// The text form of MongoDB's structured log (4.4+): one short line per entry — time, severity, component,
// context, message and a summary of its attributes — instead of a JSON document per line. Lines that are not
// JSON log entries (older servers, supervisord's log, a torn line) pass through unchanged.
import type { Colors } from '../colors.js';

interface LogEntry {
  t?: { $date?: string } | string;
  s?: string;
  c?: string;
  ctx?: string;
  id?: number;
  msg?: string;
  attr?: Record<string, unknown>;
}

/** Longest text one attribute value gets before it is cut with `…`. */
const VALUE_WIDTH = 80;
/** Longest attribute summary of a line. */
const ATTR_WIDTH = 240;

export function formatLogLine(line: string, colors?: Colors): string {
  const entry = parseEntry(line);
  if (entry === undefined) return line;
  const time = formatTime(entry.t);
  const severity = (entry.s ?? '?').padEnd(2);
  const component = (entry.c ?? '-').padEnd(8);
  const context = entry.ctx === undefined ? '' : `[${entry.ctx}] `;
  const attrs = summarizeAttributes(entry.attr);
  const paint = colors ? severityColor(entry.s ?? '', colors) : (text: string) => text;
  const head = `${time} ${paint(severity)} ${component} ${context}`;
  const message = entry.msg ?? '';
  return attrs === ''
    ? `${head}${message}`
    : `${head}${message}${colors ? colors.dim(` ${attrs}`) : ` ${attrs}`}`;
}

function parseEntry(line: string): LogEntry | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const entry = parsed as LogEntry;
    // Every structured log line has a time, a severity and a message.
    if (entry.t === undefined || typeof entry.s !== 'string' || typeof entry.msg !== 'string')
      return undefined;
    return entry;
  } catch {
    return undefined;
  }
}

/** `2026-12-03T13:38:41.123+00:00` → `2026-12-03 13:38:41.123` (the zone as written is dropped: one host's log). */
function formatTime(t: LogEntry['t']): string {
  const raw = typeof t === 'string' ? t : (t?.$date ?? '');
  const match = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d(?:\.\d+)?)/.exec(raw);
  return match ? `${match[1]} ${match[2]}` : raw;
}

function summarizeAttributes(attr: Record<string, unknown> | undefined): string {
  if (attr === undefined) return '';
  const parts = Object.entries(attr).map(([key, value]) => `${key}=${formatValue(value)}`);
  return cut(parts.join(' '), ATTR_WIDTH);
}

function formatValue(value: unknown): string {
  if (typeof value === 'string')
    return cut(/^[\w.:/@-]*$/.test(value) && value !== '' ? value : JSON.stringify(value), VALUE_WIDTH);
  // Extended JSON wrappers ({"$date": ...}, {"$numberLong": ...}) read better as their inner value.
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0]?.startsWith('$'))
      return formatValue((value as Record<string, unknown>)[keys[0]]);
  }
  return cut(JSON.stringify(value) ?? String(value), VALUE_WIDTH);
}

function cut(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

function severityColor(severity: string, colors: Colors): (text: string) => string {
  if (severity === 'F' || severity === 'E') return colors.red;
  if (severity === 'W') return colors.yellow;
  if (severity.startsWith('D')) return colors.dim;
  return (text) => text;
}
