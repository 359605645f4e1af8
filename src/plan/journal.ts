// The operation journal: one JSON line per event, appended and fsynced as the operation runs, so that after
// a crash `mup cluster resume` knows which steps are done and `mup cluster audit` can show what happened.
// File: storage/clusters/<name>/ops/<op-id>.jsonl.
import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isPidAlive } from './lock.js';
import type { PlanOutline, StepState } from './types.js';

export interface OperationHeader {
  kind: 'operation';
  opId: string;
  operation: string;
  cluster: string;
  /** Everything needed to rebuild the same plan on resume (the command's arguments). */
  args: Record<string, unknown>;
  /** The command line as typed, secrets masked (`mup cluster restart prod -R mongos`); absent in older journals. */
  commandLine?: string;
  startedAt: string;
  pid: number;
  plan: PlanOutline;
}

export interface StepRecord {
  kind: 'step';
  at: string;
  phase: string;
  step: string;
  state: StepState;
  output?: string;
  error?: string;
}

export interface EndRecord {
  kind: 'end';
  at: string;
  /** `interrupted`: stopped by SIGINT/SIGTERM after journaling the step in flight. */
  status: 'succeeded' | 'failed' | 'interrupted';
  error?: string;
}

export type JournalRecord = OperationHeader | StepRecord | EndRecord;

export type OperationStatus = 'running' | 'succeeded' | 'failed' | 'interrupted';

export interface OperationSummary {
  opId: string;
  operation: string;
  cluster: string;
  /** The command line that started it, secrets masked; absent in older journals. */
  commandLine?: string;
  startedAt: string;
  endedAt?: string;
  status: OperationStatus;
  error?: string;
}

export interface OperationRecord {
  header: OperationHeader;
  steps: StepRecord[];
  end?: EndRecord;
  summary: OperationSummary;
  /** Step ids whose last record is done or skipped. */
  completedSteps: Set<string>;
}

/** Sortable, unique operation id: UTC time then random hex. */
export function newOperationId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export class Journal {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /** Creates the journal file and writes its header. */
  static async create(opsDir: string, header: Omit<OperationHeader, 'kind'>): Promise<Journal> {
    await mkdir(opsDir, { recursive: true, mode: 0o700 });
    const path = join(opsDir, `${header.opId}.jsonl`);
    const handle = await open(path, 'wx', 0o600);
    const journal = new Journal(path, handle);
    await journal.append({ kind: 'operation', ...header });
    return journal;
  }

  /** Reopens an existing journal to continue it (resume). */
  static async reopen(path: string): Promise<Journal> {
    return new Journal(path, await open(path, 'a'));
  }

  async append(record: JournalRecord): Promise<void> {
    await this.handle.write(`${JSON.stringify(record)}\n`);
    await this.handle.datasync();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

function parseLines(text: string): JournalRecord[] {
  const records: JournalRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      records.push(JSON.parse(line) as JournalRecord);
    } catch {
      // A line torn by a crash mid-write is the last one; everything before it is intact.
      break;
    }
  }
  return records;
}

export async function readOperation(path: string): Promise<OperationRecord> {
  const records = parseLines(await readFile(path, 'utf8'));
  const header = records[0];
  if (header?.kind !== 'operation') throw new Error(`${path}: not an operation journal`);
  const steps = records.filter((r): r is StepRecord => r.kind === 'step');
  // A resumed operation appends to its journal: only an end record after the last step counts.
  let end: EndRecord | undefined;
  for (const record of records) {
    if (record.kind === 'end') end = record;
    else if (record.kind === 'step') end = undefined;
  }
  const completedSteps = new Set<string>();
  for (const step of steps) {
    if (step.state === 'done' || step.state === 'skipped') completedSteps.add(step.step);
    else completedSteps.delete(step.step);
  }
  let status: OperationStatus;
  if (end) status = end.status;
  else status = isPidAlive(header.pid) && header.pid !== process.pid ? 'running' : 'interrupted';
  const summary: OperationSummary = {
    opId: header.opId,
    operation: header.operation,
    cluster: header.cluster,
    ...(header.commandLine === undefined ? {} : { commandLine: header.commandLine }),
    startedAt: header.startedAt,
    status,
    ...(end ? { endedAt: end.at } : {}),
    ...(end?.error ? { error: end.error } : {}),
  };
  return { header, steps, ...(end ? { end } : {}), summary, completedSteps };
}

/** All operations of a cluster, oldest first. */
export async function listOperations(opsDir: string): Promise<OperationRecord[]> {
  let names: string[];
  try {
    names = await readdir(opsDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files = names.filter((n) => n.endsWith('.jsonl'));
  const operations = await Promise.all(files.map((f) => readOperation(join(opsDir, f))));
  // By start time to the millisecond: ids only resolve seconds, and two operations can start in one second.
  return operations.sort(
    (a, b) =>
      a.header.startedAt.localeCompare(b.header.startedAt) || a.header.opId.localeCompare(b.header.opId),
  );
}
