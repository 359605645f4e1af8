// The compaction worker (a worker thread started by Storage): folds sealed journal segments into a new
// snapshot from the files alone and reports what it wrote; Storage renames the results into place.
import { parentPort, workerData } from 'node:worker_threads';
import { foldSegments, type StablePoint } from './store.js';

interface FoldJob {
  readonly dbPath: string;
  readonly gens: number[];
  readonly stable: StablePoint | null;
}

const job = workerData as FoldJob;
parentPort?.postMessage(foldSegments(job.dbPath, job.gens, job.stable));
