// XML-RPC encoding and a lenient response parser for supervisord's API.
// Own code rather than an npm client: supervisord sends log bytes raw inside
// <string> (control characters make the XML invalid, strict parsers fail), its system.multicall returns bare
// values instead of `[value]` (the maintained client mis-parses it), and the one client that copes is
// unmaintained since 2016 with no timeouts. Only the subset supervisord uses is supported.

export type XmlRpcValue = string | number | boolean | null | XmlRpcValue[] | XmlRpcStruct;
export interface XmlRpcStruct {
  [key: string]: XmlRpcValue;
}

export type XmlRpcResponse =
  | { kind: 'value'; value: XmlRpcValue }
  | { kind: 'fault'; code: number; message: string };

export class XmlRpcParseError extends Error {
  constructor(message: string) {
    super(`malformed XML-RPC response: ${message}`);
    this.name = 'XmlRpcParseError';
  }
}

export function encodeMethodCall(method: string, params: readonly XmlRpcValue[]): string {
  const encoded = params.map((param) => `<param>${encodeValue(param)}</param>`).join('');
  return `<?xml version="1.0"?><methodCall><methodName>${escapeText(method)}</methodName><params>${encoded}</params></methodCall>`;
}

function encodeValue(value: XmlRpcValue): string {
  if (value === null) return '<value><nil/></value>';
  if (typeof value === 'string') return `<value><string>${escapeText(value)}</string></value>`;
  if (typeof value === 'boolean') return `<value><boolean>${value ? 1 : 0}</boolean></value>`;
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return `<value><int>${value}</int></value>`;
    if (!Number.isFinite(value)) throw new TypeError(`cannot encode ${value} in XML-RPC`);
    return `<value><double>${value}</double></value>`;
  }
  if (Array.isArray(value))
    return `<value><array><data>${value.map(encodeValue).join('')}</data></array></value>`;
  const members = Object.entries(value)
    .map(([name, member]) => `<member><name>${escapeText(name)}</name>${encodeValue(member)}</member>`)
    .join('');
  return `<value><struct>${members}</struct></value>`;
}

function escapeText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

type Token = { kind: 'open' | 'close' | 'empty'; name: string } | { kind: 'text'; text: string };

/** Splits into tags and text without validating characters, so raw control bytes in log text survive. */
function tokenize(xml: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < xml.length) {
    const lt = xml.indexOf('<', index);
    if (lt === -1) {
      tokens.push({ kind: 'text', text: xml.slice(index) });
      break;
    }
    if (lt > index) tokens.push({ kind: 'text', text: xml.slice(index, lt) });
    const gt = xml.indexOf('>', lt);
    if (gt === -1) throw new XmlRpcParseError('unterminated tag');
    const body = xml.slice(lt + 1, gt);
    index = gt + 1;
    if (body.startsWith('?') || body.startsWith('!')) continue;
    if (body.startsWith('/')) {
      tokens.push({ kind: 'close', name: body.slice(1).trim() });
      continue;
    }
    const selfClosing = body.endsWith('/');
    const name = (selfClosing ? body.slice(0, -1) : body).trim().split(/\s/, 1)[0] ?? '';
    tokens.push({ kind: selfClosing ? 'empty' : 'open', name });
  }
  return tokens;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeText(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
    return ENTITIES[entity] ?? whole;
  });
}

class Parser {
  private position = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined {
    // Whitespace between structural tags is formatting, never data.
    while (true) {
      const token = this.tokens[this.position];
      if (token?.kind === 'text' && token.text.trim() === '') {
        this.position++;
        continue;
      }
      return token;
    }
  }

  private next(): Token {
    const token = this.peek();
    if (token === undefined) throw new XmlRpcParseError('unexpected end');
    this.position++;
    return token;
  }

  expectOpen(name: string): void {
    const token = this.next();
    if (token.kind !== 'open' || token.name !== name) throw new XmlRpcParseError(`expected <${name}>`);
  }

  expectClose(name: string): void {
    const token = this.next();
    if (token.kind !== 'close' || token.name !== name) throw new XmlRpcParseError(`expected </${name}>`);
  }

  isOpen(name: string): boolean {
    const token = this.peek();
    return token !== undefined && (token.kind === 'open' || token.kind === 'empty') && token.name === name;
  }

  /** Raw text up to the closing tag (may be empty); whitespace is kept because it is data here. */
  textUntilClose(name: string): string {
    const token = this.tokens[this.position];
    let text = '';
    if (token?.kind === 'text') {
      text = decodeText(token.text);
      this.position++;
    }
    this.expectClose(name);
    return text;
  }

  value(): XmlRpcValue {
    const open = this.next();
    if (open.kind === 'empty' && open.name === 'value') return '';
    if (open.kind !== 'open' || open.name !== 'value') throw new XmlRpcParseError('expected <value>');
    // An untyped <value> is a string; keep its whitespace.
    const first = this.tokens[this.position];
    if (first?.kind === 'close' && first.name === 'value') {
      this.position++;
      return '';
    }
    if (first?.kind === 'text') {
      const after = this.tokens[this.position + 1];
      if (after?.kind === 'close' && after.name === 'value') {
        this.position += 2;
        return decodeText(first.text);
      }
    }
    const result = this.typed();
    this.expectClose('value');
    return result;
  }

  private typed(): XmlRpcValue {
    const tag = this.next();
    if (tag.kind === 'text') throw new XmlRpcParseError('text outside of a type');
    if (tag.kind === 'close') throw new XmlRpcParseError(`unexpected </${tag.name}>`);
    if (tag.kind === 'empty') {
      if (tag.name === 'nil') return null;
      if (tag.name === 'string') return '';
      if (tag.name === 'array') return [];
      if (tag.name === 'struct') return {};
      throw new XmlRpcParseError(`empty <${tag.name}/>`);
    }
    switch (tag.name) {
      case 'string':
      case 'base64':
      case 'dateTime.iso8601':
        return this.textUntilClose(tag.name);
      case 'int':
      case 'i4':
      case 'i8':
      case 'double': {
        const text = this.textUntilClose(tag.name).trim();
        const number = Number(text);
        if (text === '' || Number.isNaN(number)) throw new XmlRpcParseError(`bad number "${text}"`);
        return number;
      }
      case 'boolean': {
        const text = this.textUntilClose(tag.name).trim();
        if (text !== '0' && text !== '1') throw new XmlRpcParseError(`bad boolean "${text}"`);
        return text === '1';
      }
      case 'nil':
        this.expectClose('nil');
        return null;
      case 'array': {
        const items: XmlRpcValue[] = [];
        if (this.isOpen('data')) {
          const data = this.next();
          if (data.kind === 'open') {
            while (this.isOpen('value')) items.push(this.value());
            this.expectClose('data');
          }
        }
        this.expectClose('array');
        return items;
      }
      case 'struct': {
        const struct: XmlRpcStruct = {};
        while (this.isOpen('member')) {
          this.expectOpen('member');
          this.expectOpen('name');
          const name = this.textUntilClose('name');
          struct[name] = this.value();
          this.expectClose('member');
        }
        this.expectClose('struct');
        return struct;
      }
      default:
        throw new XmlRpcParseError(`unknown type <${tag.name}>`);
    }
  }
}

export function parseMethodResponse(xml: string): XmlRpcResponse {
  const parser = new Parser(tokenize(xml));
  parser.expectOpen('methodResponse');
  if (parser.isOpen('fault')) {
    parser.expectOpen('fault');
    const fault = parser.value();
    if (fault === null || typeof fault !== 'object' || Array.isArray(fault)) {
      throw new XmlRpcParseError('fault is not a struct');
    }
    const code = fault.faultCode;
    const message = fault.faultString;
    if (typeof code !== 'number' || typeof message !== 'string')
      throw new XmlRpcParseError('incomplete fault');
    return { kind: 'fault', code, message };
  }
  parser.expectOpen('params');
  parser.expectOpen('param');
  const value = parser.value();
  parser.expectClose('param');
  parser.expectClose('params');
  parser.expectClose('methodResponse');
  return { kind: 'value', value };
}
