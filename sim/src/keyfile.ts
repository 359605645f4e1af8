// security.keyFile checks mongod and mongos make at startup: the file exists, is not accessible by
// group or others, and holds 6–1024 base64 characters (whitespace ignored). Any failure ends startup
// with exit 1. Source: reference/mongod-behavior.md §7.2 (keyFile internal auth).
import { readFileSync, statSync } from 'node:fs';

/** The key with whitespace removed, or the startup error text. */
export function readKeyFile(path: string): { key: string } | { error: string } {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      error: `error getting file ${path}: ${code === 'ENOENT' ? 'No such file or directory' : String(code)}`,
    };
  }
  if ((mode & 0o077) !== 0) return { error: `permissions on ${path} are too open` };
  const key = readFileSync(path, 'utf8').replace(/\s+/g, '');
  if (key.length < 6 || key.length > 1024) {
    return { error: `security key in ${path} has length ${key.length}, must be between 6 and 1024 chars` };
  }
  const bad = /[^A-Za-z0-9+/=]/.exec(key);
  if (bad) return { error: `invalid char in key file ${path}: ${bad[0]}` };
  return { key };
}
