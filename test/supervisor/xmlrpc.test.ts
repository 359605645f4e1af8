import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeMethodCall, parseMethodResponse, XmlRpcParseError } from '../../src/supervisor/xmlrpc.js';

const wrap = (value: string) =>
  `<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n${value}\n</param>\n</params>\n</methodResponse>\n`;

describe('encodeMethodCall', () => {
  it('encodes the types supervisord takes, escaping markup', () => {
    assert.equal(
      encodeMethodCall('supervisor.startProcess', ['a<b>&c', true, 3, 1.5, null, [1], { k: 'v' }]),
      '<?xml version="1.0"?><methodCall><methodName>supervisor.startProcess</methodName><params>' +
        '<param><value><string>a&lt;b&gt;&amp;c</string></value></param>' +
        '<param><value><boolean>1</boolean></value></param>' +
        '<param><value><int>3</int></value></param>' +
        '<param><value><double>1.5</double></value></param>' +
        '<param><value><nil/></value></param>' +
        '<param><value><array><data><value><int>1</int></value></data></array></value></param>' +
        '<param><value><struct><member><name>k</name><value><string>v</string></value></member></struct></value></param>' +
        '</params></methodCall>',
    );
  });

  it('refuses non-finite numbers', () => {
    assert.throws(() => encodeMethodCall('x', [Number.NaN]), TypeError);
  });
});

describe('parseMethodResponse', () => {
  it('parses a boolean answer with supervisord line breaks', () => {
    assert.deepEqual(parseMethodResponse(wrap('<value><boolean>1</boolean></value>')), {
      kind: 'value',
      value: true,
    });
  });

  it('parses a fault into code and message', () => {
    const xml =
      "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n" +
      '<value><int>60</int></value>\n</member>\n<member>\n<name>faultString</name>\n' +
      '<value><string>ALREADY_STARTED: web</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n';
    assert.deepEqual(parseMethodResponse(xml), { kind: 'fault', code: 60, message: 'ALREADY_STARTED: web' });
  });

  it('keeps raw control characters, whitespace and entities inside strings', () => {
    const text = '\x01start\x1b[0m  &lt;tag&gt; &amp; caf\u00e9 &#65;&#x42;\n';
    const parsed = parseMethodResponse(wrap(`<value><string>${text}</string></value>`));
    assert.deepEqual(parsed, { kind: 'value', value: '\x01start\x1b[0m  <tag> & caf\u00e9 AB\n' });
  });

  it('reads untyped values as strings and empty elements', () => {
    assert.deepEqual(parseMethodResponse(wrap('<value>  plain </value>')), {
      kind: 'value',
      value: '  plain ',
    });
    assert.deepEqual(parseMethodResponse(wrap('<value></value>')), { kind: 'value', value: '' });
    assert.deepEqual(parseMethodResponse(wrap('<value><string/></value>')), { kind: 'value', value: '' });
    assert.deepEqual(parseMethodResponse(wrap('<value><nil/></value>')), { kind: 'value', value: null });
    assert.deepEqual(parseMethodResponse(wrap('<value><array><data/></array></value>')), {
      kind: 'value',
      value: [],
    });
  });

  it('parses reloadConfig nesting and multicall mixed results', () => {
    const reload =
      '<value><array><data><value><array><data>' +
      '<value><array><data><value><string>added</string></value></data></array></value>' +
      '<value><array><data><value><string>tree</string></value></data></array></value>' +
      '<value><array><data></data></array></value>' +
      '</data></array></value></data></array></value>';
    assert.deepEqual(parseMethodResponse(wrap(reload)), {
      kind: 'value',
      value: [[['added'], ['tree'], []]],
    });
    const multi =
      '<value><array><data><value><int>7163</int></value><value><struct><member><name>faultCode</name>' +
      '<value><int>10</int></value></member><member><name>faultString</name><value><string>BAD_NAME: nope</string>' +
      '</value></member></struct></value></data></array></value>';
    assert.deepEqual(parseMethodResponse(wrap(multi)), {
      kind: 'value',
      value: [7163, { faultCode: 10, faultString: 'BAD_NAME: nope' }],
    });
  });

  it('parses int variants, doubles and negative numbers', () => {
    const xml =
      '<value><array><data><value><i4>-1</i4></value><value><double>2.5</double></value></data></array></value>';
    assert.deepEqual(parseMethodResponse(wrap(xml)), { kind: 'value', value: [-1, 2.5] });
  });

  it('rejects what is not an XML-RPC response', () => {
    assert.throws(() => parseMethodResponse('<html><h1>Error response</h1></html>'), XmlRpcParseError);
    assert.throws(() => parseMethodResponse(wrap('<value><int>x</int></value>')), /bad number/);
    assert.throws(() => parseMethodResponse(wrap('<value><boolean>2</boolean></value>')), /bad boolean/);
    assert.throws(() => parseMethodResponse(wrap('<value><string>cut')), XmlRpcParseError);
  });
});
