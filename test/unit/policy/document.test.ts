import { describe, expect, test } from 'vitest';
import {
  parsePolicyDocument,
  parsePolicyDocumentText,
  resolvePolicy,
  serializePolicyDocument,
  toPolicyDocument,
  TRUST_LEVELS,
  type PolicyDocument,
} from '../../../src/policy';
import { fixtureJson, fixtureNames, fixtureText } from './fixtures';

const validFixtures = fixtureNames().filter((name) => !name.startsWith('invalid-'));
const invalidFixtures = fixtureNames().filter((name) => name.startsWith('invalid-'));

function parsed(json: unknown): PolicyDocument {
  const result = parsePolicyDocument(json);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.policy;
}

describe('valid policy documents', () => {
  test('there is at least one refinement fixture per trust level', () => {
    const levels = validFixtures.map((name) => (fixtureJson(name) as { trustLevel?: string }).trustLevel);
    for (const level of TRUST_LEVELS) expect(levels).toContain(level);
  });

  test.each(validFixtures)('%s parses, and parse → serialize → parse gives the same document', (name) => {
    const first = parsed(fixtureJson(name));
    const text = serializePolicyDocument(first);
    const second = parsed(JSON.parse(text));
    expect(second).toEqual(first);
    expect(serializePolicyDocument(second)).toBe(text);
  });

  test.each(validFixtures)('%s serialises to the same text from its own text', (name) => {
    const doc = parsed(fixtureJson(name));
    expect(parsePolicyDocumentText(serializePolicyDocument(doc))).toEqual({ ok: true, policy: doc });
  });

  test.each(TRUST_LEVELS)('the full %s template round-trips as a document and resolves to itself', (level) => {
    const policy = resolvePolicy(level);
    const doc = parsed(JSON.parse(serializePolicyDocument(toPolicyDocument(policy))));
    expect(resolvePolicy('Untrusted', doc)).toEqual(policy);
  });

  test('serialisation puts fields in schema order whatever order they came in, and leaves out absent ones', () => {
    const doc = parsed({
      session: { callsPerMinute: 3, timeoutMinutes: 5 },
      tools: { blocked: ['x'], allowed: ['y'] },
      version: 1,
      trustLevel: 'Limited',
    });
    expect(serializePolicyDocument(doc)).toBe(
      [
        '{',
        '  "version": 1,',
        '  "trustLevel": "Limited",',
        '  "tools": {',
        '    "allowed": [',
        '      "y"',
        '    ],',
        '    "blocked": [',
        '      "x"',
        '    ]',
        '  },',
        '  "session": {',
        '    "timeoutMinutes": 5,',
        '    "callsPerMinute": 3',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });

  test('explicit null quiet hours survive the round trip (they switch the template\'s off)', () => {
    const doc = parsed({ version: 1, session: { quietHours: null } });
    expect(parsed(JSON.parse(serializePolicyDocument(doc)))).toEqual({ version: 1, session: { quietHours: null } });
    expect(resolvePolicy('Limited', doc).session.quietHours).toBeNull();
  });
});

describe('invalid policy documents name the field path and the reason', () => {
  const expected: Record<string, { path: string; reason: string }[]> = {
    'invalid-memory-too-large.json': [{ path: 'limits.memoryMb', reason: 'must be a positive integer ≤ 4096' }],
    'invalid-unknown-field.json': [
      {
        path: 'network.allowedDomain',
        reason: 'is not a known field (known here: allowedDomains, blockedDomains, blockPrivateNetworks, allowedPorts, httpsOnly, maxRequestKb, requestsPerMinute)',
      },
      {
        path: 'owner',
        reason: 'is not a known field (known here: version, trustLevel, tools, limits, network, files, data, session)',
      },
    ],
    'invalid-version.json': [
      { path: 'version', reason: 'must be 1: this sandbox reads policy documents of version 1 only (got 2)' },
    ],
    'invalid-missing-version.json': [{ path: 'version', reason: 'is required and must be 1' }],
    'invalid-trust-level.json': [
      { path: 'trustLevel', reason: 'must be one of Untrusted, Limited, Trusted, FullyTrusted' },
    ],
    'invalid-domains.json': [
      {
        path: 'network.allowedDomains[1]',
        reason: 'must be a host name without a scheme (write example.com, not https://example.com)',
      },
      { path: 'network.allowedDomains[2]', reason: "only a leading '*.' wildcard is supported (e.g. *.example.com)" },
      {
        path: 'network.allowedDomains[3]',
        reason: 'must be a host name without a port (ports go in network.allowedPorts)',
      },
      { path: 'network.blockedDomains[0]', reason: 'a wildcard cannot be combined with an IP address' },
    ],
    'invalid-ports-and-sizes.json': [
      { path: 'network.allowedPorts[1]', reason: 'must be a port number from 1 to 65535 or "*"' },
      { path: 'network.allowedPorts[2]', reason: 'must be a port number from 1 to 65535 or "*"' },
      { path: 'network.httpsOnly', reason: 'must be true or false' },
      { path: 'network.maxRequestKb', reason: 'must be an integer from 0 to 1048576' },
      { path: 'files.maxSizeMb', reason: 'must be an integer from 0 to 4096' },
    ],
    'invalid-file-patterns.json': [
      { path: 'files.allowedPatterns[0]', reason: "must not hold '..' segments" },
      { path: 'files.allowedPatterns[1]', reason: 'must not be empty' },
      { path: 'files.allowedPatterns[2]', reason: 'must not hold a backslash or a control character' },
    ],
    'invalid-quiet-hours.json': [
      { path: 'session.quietHours.start', reason: 'must be a 24-hour time "HH:MM", e.g. "22:00"' },
      {
        path: 'session.quietHours.timeZone',
        reason: 'must be an IANA time zone such as "UTC" or "America/New_York"',
      },
    ],
    'invalid-lists.json': [
      { path: 'tools.allowed', reason: 'must be a list (write ["*"] for any, [] for none)' },
      { path: 'tools.blocked[0]', reason: 'must be a tool name (1–128 characters, no spaces) or "*"' },
      { path: 'tools.blocked[1]', reason: 'must be a tool name' },
      { path: 'data.sensitivePatterns[0]', reason: 'must be a word or key name (letters, digits, space, _ . -)' },
    ],
  };

  test('every invalid fixture has its expected errors listed here', () => {
    expect(Object.keys(expected).sort()).toEqual(invalidFixtures);
  });

  test.each(invalidFixtures)('%s', (name) => {
    const result = parsePolicyDocument(fixtureJson(name));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const sortByPath = (errors: { path: string }[]) => [...errors].sort((a, b) => a.path.localeCompare(b.path));
    expect(sortByPath(result.errors)).toEqual(sortByPath(expected[name] ?? []));
  });

  test('a document that is not an object is an error at (root)', () => {
    for (const json of [null, 3, 'policy', [1]]) {
      expect(parsePolicyDocument(json)).toEqual({ ok: false, errors: [{ path: '(root)', reason: 'must be a JSON object' }] });
    }
  });

  test('a section that is not an object names the section', () => {
    expect(parsePolicyDocument({ version: 1, limits: 5 })).toEqual({
      ok: false,
      errors: [{ path: 'limits', reason: 'must be an object' }],
    });
  });

  test('quiet hours need all three fields, distinct start and end, and an object or null', () => {
    expect(parsePolicyDocument({ version: 1, session: { quietHours: { start: '22:00' } } })).toEqual({
      ok: false,
      errors: [
        { path: 'session.quietHours.end', reason: 'is required' },
        { path: 'session.quietHours.timeZone', reason: 'is required' },
      ],
    });
    expect(parsePolicyDocument({ version: 1, session: { quietHours: { start: '22:00', end: '22:00', timeZone: 'UTC' } } })).toEqual({
      ok: false,
      errors: [{ path: 'session.quietHours.end', reason: 'must differ from start (use null for no quiet hours)' }],
    });
    expect(parsePolicyDocument({ version: 1, session: { quietHours: '22-06' } })).toEqual({
      ok: false,
      errors: [{ path: 'session.quietHours', reason: 'must be null or an object {"start", "end", "timeZone"}' }],
    });
  });

  test.each([
    ['limits.memoryMb', { limits: { memoryMb: 0 } }, 'must be a positive integer ≤ 4096'],
    ['limits.cpuSeconds', { limits: { cpuSeconds: 0.5 } }, 'must be a positive integer ≤ 86400'],
    ['limits.concurrentCalls', { limits: { concurrentCalls: -1 } }, 'must be a positive integer ≤ 1000'],
    ['network.requestsPerMinute', { network: { requestsPerMinute: '10' } }, 'must be an integer from 0 to 100000'],
    ['session.timeoutMinutes', { session: { timeoutMinutes: 0 } }, 'must be a positive integer ≤ 10080'],
    ['session.maxCalls', { session: { maxCalls: null } }, 'must be a positive integer ≤ 10000000'],
    ['session.callsPerMinute', { session: { callsPerMinute: 1e9 } }, 'must be an integer from 0 to 100000'],
    ['data.redactForAgent', { data: { redactForAgent: 1 } }, 'must be true or false'],
    ['data.encryptionRequired', { data: { encryptionRequired: 'no' } }, 'must be true or false'],
    ['data.auditAllAccess', { data: { auditAllAccess: null } }, 'must be true or false'],
  ])('%s out of range is reported at that path', (path, fields, reason) => {
    expect(parsePolicyDocument({ version: 1, ...fields })).toEqual({ ok: false, errors: [{ path, reason }] });
  });

  test('invalid JSON text is reported at (root)', () => {
    const result = parsePolicyDocumentText('{ "version": 1, ');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]?.path).toBe('(root)');
  });

  test('the fixture files themselves are pretty JSON a person can edit', () => {
    for (const name of fixtureNames()) expect(() => JSON.parse(fixtureText(name))).not.toThrow();
  });
});
