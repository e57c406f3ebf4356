import { describe, expect, test } from 'vitest';
import { findSensitive, redact, redactForAgent, redactValue, REDACTED, resolvePolicy } from '../../../src/policy';

const r = (text: string, patterns: string[] = ['password', 'key', 'secret']) => redact(text, patterns).text;

describe('which words a pattern matches', () => {
  test.each([
    'password',
    'PASSWORD',
    'Password',
    'db_password',
    'db-password',
    'db.password',
    'passwordHash',
    'userPassword',
    'passwords',
    'password2',
    'x(password)',
  ])('password matches %s', (text) => {
    expect(findSensitive(text, ['password'])).toHaveLength(1);
  });

  test.each(['passwordless', 'onepasswordx', 'passw0rd', 'pass word'])('password does not match %s', (text) => {
    expect(findSensitive(text, ['password'])).toEqual([]);
  });

  test.each(['key', 'api_key', 'apiKey', 'APIKey', 'X-Api-Key', 'KEY', 'keys'])('key matches %s', (text) => {
    expect(findSensitive(text, ['key'])).toHaveLength(1);
  });

  test.each(['keyboard', 'monkey', 'turkeys', 'keystone', 'apikey'])('key does not match %s', (text) => {
    expect(findSensitive(text, ['key'])).toEqual([]);
  });

  test.each(['api key', 'api_key', 'apiKey', 'API-KEY', 'apikey', 'x_api_key'])('the two-part pattern "api key" matches %s', (text) => {
    expect(findSensitive(text, ['api key'])).toHaveLength(1);
  });

  test('patterns written in camelCase or snake_case mean the same', () => {
    expect(r('apiKey=1', ['apiKey'])).toBe('apiKey=[REDACTED]');
    expect(r('API_KEY=1', ['api-key'])).toBe('API_KEY=[REDACTED]');
  });
});

describe('redact: values of keys', () => {
  test.each([
    ['password=hunter2', 'password=[REDACTED]'],
    ['password = hunter2 user=bob', 'password = [REDACTED] user=bob'],
    ['https://x.test/login?user=bob&password=hunter2&next=/', 'https://x.test/login?user=bob&password=[REDACTED]&next=/'],
    ['PASSWORD="hunter 2" OTHER=1', 'PASSWORD="[REDACTED]" OTHER=1'],
    ["password='hun\\'ter2'", "password='[REDACTED]'"],
    ['export DB_PASSWORD=hunter2', 'export DB_PASSWORD=[REDACTED]'],
    ['password := hunter2', 'password := [REDACTED]'],
    ['$options = {password => hunter2}', '$options = {password => [REDACTED]}'],
  ])('%s', (input, output) => {
    expect(r(input)).toBe(output);
  });

  test.each([
    ['{"password": "hunter2", "user": "bob"}', '{"password": "[REDACTED]", "user": "bob"}'],
    ['{"password":"a\\"b\\\\","x":1}', '{"password":"[REDACTED]","x":1}'],
    ['{"pin_secret": 1234, "x": 1}', '{"pin_secret": "[REDACTED]", "x": 1}'],
    ['{"secret": {"a": "}", "b": [1, {"c": 2}]}, "x": 1}', '{"secret": "[REDACTED]", "x": 1}'],
    ['{"keys": ["a", "b"]}', '{"keys": "[REDACTED]"}'],
    ['{"password": null}', '{"password": "[REDACTED]"}'],
  ])('JSON text stays JSON: %s', (input, output) => {
    const text = r(input);
    expect(text).toBe(output);
    expect(() => JSON.parse(text)).not.toThrow();
  });

  test.each([
    ['password: hunter2', 'password: [REDACTED]'],
    ['password: correct horse battery staple\nuser: bob', 'password: [REDACTED]\nuser: bob'],
    ['X-Api-Key: abc123', 'X-Api-Key: [REDACTED]'],
    ['  secret:   s3cr3t   \n', '  secret:   [REDACTED]   \n'],
  ])('YAML and header style: %j', (input, output) => {
    expect(r(input)).toBe(output);
  });

  test('a key with no value on its line is redacted as a word', () => {
    expect(r('password:\n  hunter2')).toBe('[REDACTED]:\n  hunter2');
    expect(r('password=')).toBe('[REDACTED]=');
  });

  test('a URL scheme after the word is not a value', () => {
    expect(r('key://host')).toBe('[REDACTED]://host');
  });

  test('an unterminated quoted value is redacted to the end of its line', () => {
    expect(r('password="hunter2\nnext line')).toBe('password="[REDACTED]\nnext line');
  });

  test('an unbalanced bracket value is redacted to the end of the text', () => {
    expect(r('{"secret": {"a": 1, "b": 2')).toBe('{"secret": "[REDACTED]"');
  });
});

describe('redact: bare words', () => {
  test('a bare occurrence of the word is replaced', () => {
    expect(r('Please enter your password to continue')).toBe('Please enter your [REDACTED] to continue');
  });

  test('counts and matched patterns are reported in pattern order', () => {
    expect(redact('my Secret and the key=1 and password', ['password', 'key', 'secret'])).toEqual({
      text: 'my [REDACTED] and the key=[REDACTED] and [REDACTED]',
      redactions: 3,
      matchedPatterns: ['password', 'key', 'secret'],
    });
  });

  test('text with no match is returned unchanged', () => {
    expect(redact('nothing to see', ['password'])).toEqual({ text: 'nothing to see', redactions: 0, matchedPatterns: [] });
  });

  test('no patterns, no redaction', () => {
    expect(redact('password=hunter2', [])).toEqual({ text: 'password=hunter2', redactions: 0, matchedPatterns: [] });
  });
});

describe('redact: robustness', () => {
  test('redacting twice changes nothing more', () => {
    const inputs = ['password=hunter2 and {"key": 1, "secret": {"x": 1}} my password', 'pw: [REDACTED]', 'password: [REDACTED]'];
    for (const input of inputs) {
      const once = redact(input, ['password', 'key', 'secret', 'redacted']);
      const twice = redact(once.text, ['password', 'key', 'secret', 'redacted']);
      expect(twice.text).toBe(once.text);
      expect(twice.redactions).toBe(0);
    }
  });

  test('a secret inside another secret is redacted once', () => {
    expect(redact('password=mypassword_key', ['password', 'key'])).toEqual({
      text: 'password=[REDACTED]',
      redactions: 1,
      matchedPatterns: ['password'],
    });
  });

  test('overlapping patterns prefer the longer match', () => {
    expect(findSensitive('api_key', ['key', 'api key'])).toMatchObject([{ pattern: 'api key', kind: 'word', start: 0, end: 7 }]);
  });

  test('spans index the original text', () => {
    const text = 'a password=xyz';
    expect(findSensitive(text, ['password'])).toEqual([{ pattern: 'password', kind: 'value', start: 11, end: 14, replacement: REDACTED }]);
  });

  test('non-ASCII text around a match is kept intact', () => {
    expect(r('mot de passe: 🔑 password=ça😀va ok')).toBe('mot de passe: 🔑 password=[REDACTED] ok');
    expect(r('Geheimnis päßword password')).toBe('Geheimnis päßword [REDACTED]');
  });

  // Not timed (speed belongs in benchmarks): a quadratic scan of these inputs would run for
  // minutes and fail on the test timeout; a linear one finishes at once.
  test('large and pathological inputs are handled whole', () => {
    const nested = 'secret={'.repeat(20_000);
    const many = 'password=x '.repeat(20_000);
    const identifier = 'password_'.repeat(20_000);
    expect(redact(nested, ['secret']).redactions).toBe(1);
    expect(redact(many, ['password']).redactions).toBe(20_000);
    expect(redact(identifier, ['password']).redactions).toBe(20_000);
  });
});

describe('redactValue: JSON values', () => {
  test('values of sensitive keys are replaced whole, at any depth; strings are scanned', () => {
    const input = {
      user: 'bob',
      password: 'hunter2',
      nested: { apiKey: { id: 1, value: 'k' }, list: [{ secret: 's' }, 'token password=xyz'] },
      count: 3,
      ok: true,
      nothing: null,
    };
    expect(redactValue(input, ['password', 'key', 'secret'])).toEqual({
      value: {
        user: 'bob',
        password: REDACTED,
        nested: { apiKey: REDACTED, list: [{ secret: REDACTED }, 'token password=[REDACTED]'] },
        count: 3,
        ok: true,
        nothing: null,
      },
      redactions: 4,
      matchedPatterns: ['password', 'key', 'secret'],
    });
  });

  test('empty values of sensitive keys are left as they are (there is nothing to hide)', () => {
    expect(redactValue({ password: '', key: null }, ['password', 'key'])).toEqual({
      value: { password: '', key: null },
      redactions: 0,
      matchedPatterns: [],
    });
  });

  test('the input is not modified', () => {
    const input = { password: 'x', list: ['password=y'] };
    redactValue(input, ['password']);
    expect(input).toEqual({ password: 'x', list: ['password=y'] });
  });

  test('cycles are cut, not followed forever', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    expect(redactValue(a, ['password']).value).toEqual({ name: 'a', self: '[Circular]' });
  });

  test('a "__proto__" key stays a plain key', () => {
    const input = JSON.parse('{"__proto__": {"password": "x"}}') as unknown;
    const { value } = redactValue(input, ['password']);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toEqual({ password: REDACTED });
  });

  test('primitives pass through, strings are scanned', () => {
    expect(redactValue(42, ['password']).value).toBe(42);
    expect(redactValue('password=1', ['password']).value).toBe('password=[REDACTED]');
  });
});

describe('redactForAgent follows data.redactForAgent', () => {
  const result = { content: [{ type: 'text', text: 'db password=hunter2' }] };

  test('Untrusted (redactForAgent true) sees values redacted', () => {
    expect(redactForAgent(resolvePolicy('Untrusted'), result)).toMatchObject({
      value: { content: [{ type: 'text', text: 'db password=[REDACTED]' }] },
      redactions: 1,
    });
  });

  test('Trusted (redactForAgent false) sees the result unchanged', () => {
    expect(redactForAgent(resolvePolicy('Trusted'), result)).toEqual({ value: result, redactions: 0, matchedPatterns: [] });
  });

  test('an agent refined to redact gets its own patterns applied', () => {
    const p = resolvePolicy('Trusted', { version: 1, data: { redactForAgent: true, sensitivePatterns: ['token'] } });
    expect(redactForAgent(p, { token: 'abc', password: 'x' }).value).toEqual({ token: REDACTED, password: 'x' });
  });
});
