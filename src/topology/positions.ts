// Maps a path in the parsed topology (`mongod_servers.1.port`) back to a line and column of the YAML source.
import {
  type Document,
  isAlias,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
} from 'yaml';
import type { IssuePath } from './issues.js';

export interface Position {
  line: number;
  col: number;
}

function startOf(node: unknown, lineCounter: LineCounter): Position | undefined {
  if (!isNode(node) || !node.range) return undefined;
  return lineCounter.linePos(node.range[0]);
}

function deref(node: unknown, doc: Document): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

/**
 * The position of the value at `path` (or of its key when `atKey`). When the path goes further than the
 * document (a missing key), the position of the deepest node that exists: the mapping that lacks the key.
 */
export function locate(doc: Document, lineCounter: LineCounter, path: IssuePath, atKey = false): Position {
  let node: unknown = doc.contents;
  let best = startOf(node, lineCounter) ?? { line: 1, col: 1 };
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    const last = i === path.length - 1;
    node = deref(node, doc);
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (!pair) return best;
      const keyPos = startOf(pair.key, lineCounter);
      if (last && atKey && keyPos) return keyPos;
      const valuePos = startOf(pair.value, lineCounter);
      // An empty value (`port:`) has no useful range of its own: point at the key.
      const emptyValue = isScalar(pair.value) && pair.value.value === null && pair.value.source === '';
      best = (emptyValue ? keyPos : valuePos) ?? keyPos ?? best;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (item === undefined) return best;
      best = startOf(item, lineCounter) ?? best;
      node = item;
    } else {
      return best;
    }
  }
  return best;
}
