// Text of `mup cluster check`: one row per host and check (Pass/Warn/Fail), then what to do about each warn
// or fail, then the counts.
import type { CheckResult, CheckRow } from '../../ops/check.js';
import type { Colors } from '../colors.js';
import { renderTable } from '../table.js';

const LABEL: Record<CheckRow['status'], string> = { pass: 'Pass', warn: 'Warn', fail: 'Fail' };

export function renderCheck(result: CheckResult, options: { colors?: Colors } = {}): string {
  const paint = (status: CheckRow['status']) => {
    const { colors } = options;
    if (colors === undefined) return LABEL[status];
    return status === 'pass'
      ? colors.green(LABEL[status])
      : status === 'warn'
        ? colors.yellow(LABEL[status])
        : colors.red(LABEL[status]);
  };
  const table = renderTable(
    ['Host', 'Check', 'Result', 'Detail'],
    result.checks.map((row) => [
      row.host,
      row.check,
      paint(row.status),
      row.applied === undefined ? row.detail : `${row.detail} [--apply: ${row.applied}]`,
    ]),
  );
  const hints = result.checks
    .filter((row) => row.status !== 'pass' && row.hint !== undefined)
    .map((row) => `  ${row.host} ${row.check}: ${row.hint}`);
  const { pass, warn, fail } = result.summary;
  const subject = result.cluster ?? result.topologyFile ?? '';
  return [
    table,
    ...(hints.length === 0 ? [] : ['', 'To do:', ...hints]),
    '',
    `${subject} (MongoDB ${result.version}): ${pass} passed, ${warn} warning${warn === 1 ? '' : 's'}, ${fail} failed`,
  ].join('\n');
}
