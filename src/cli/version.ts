import { readFileSync } from 'node:fs';

/** The version in mup's package.json, found by walking up from this module (works from src/ and dist/). */
export function packageVersion(): string {
  let dir = new URL('.', import.meta.url);
  for (let depth = 0; depth < 5; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'mup' && pkg.version) return pkg.version;
    } catch {
      // not here; keep walking up
    }
    dir = new URL('..', dir);
  }
  return '0.0.0';
}
