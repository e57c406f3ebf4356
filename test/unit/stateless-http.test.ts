import { describe, expect, it } from 'vitest';
import { decodeHeaderValue, isStatelessVersion, statelessVersionOf } from '../../src/server/stateless-http';

const envelope = (version: unknown) => ({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': version, 'io.modelcontextprotocol/clientCapabilities': {} } } });

describe('which revision a sessionless request speaks', () => {
  it('takes the version of the request\'s _meta envelope first', () => {
    expect(statelessVersionOf(new Headers(), envelope('2026-07-28'))).toBe('2026-07-28');
    // A later stateless revision is still of that era (answered "unsupported version", not as 2025).
    expect(statelessVersionOf(new Headers(), envelope('2027-03-01'))).toBe('2027-03-01');
    // So is a version that is no date at all: the envelope is of the new era, and the request is
    // answered there (-32022 with its id), not as a 2025 request lacking initialize.
    expect(statelessVersionOf(new Headers({ 'MCP-Protocol-Version': 'v999.0.0' }), envelope('v999.0.0'))).toBe('v999.0.0');
    // An envelope naming a session revision is the 2025 era, whatever the header says.
    expect(statelessVersionOf(new Headers({ 'MCP-Protocol-Version': '2026-07-28' }), envelope('2025-11-25'))).toBeNull();
  });

  it('falls back to the MCP-Protocol-Version header, and to the 2025 era', () => {
    const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } } };
    expect(statelessVersionOf(new Headers(), initialize)).toBeNull();
    expect(statelessVersionOf(new Headers({ 'MCP-Protocol-Version': '2025-11-25' }), { jsonrpc: '2.0', id: 1, method: 'tools/list' })).toBeNull();
    expect(statelessVersionOf(new Headers({ 'MCP-Protocol-Version': '2026-07-28' }), { jsonrpc: '2.0', id: 1, method: 'tools/list' })).toBe('2026-07-28');
    expect(statelessVersionOf(new Headers(), [envelope('2026-07-28')])).toBeNull();
    expect(statelessVersionOf(new Headers(), null)).toBeNull();
  });

  it('only dates from 2026-07-28 on are stateless', () => {
    expect(['2024-11-05', '2025-06-18', '2025-11-25', '2026-07-27'].some(isStatelessVersion)).toBe(false);
    expect(['2026-07-28', '2026-12-01'].every(isStatelessVersion)).toBe(true);
    expect([undefined, 20260728, 'latest', '2026-7-28', '9999-99-99x'].some(isStatelessVersion)).toBe(false);
  });
});

describe('header values of the revision (Mcp-Name)', () => {
  it('trims surrounding whitespace and keeps case', () => {
    expect(decodeHeaderValue('  test_simple_text \t')).toBe('test_simple_text');
    expect(decodeHeaderValue('TOOLS')).toBe('TOOLS');
    expect(decodeHeaderValue(null)).toBeUndefined();
  });

  it('decodes the base64 sentinel the v2 client uses for values that are not plain ASCII', () => {
    const utf8 = btoa(String.fromCharCode(...new TextEncoder().encode('café ☕')));
    expect(decodeHeaderValue(`=?base64?${utf8}?=`)).toBe('café ☕');
    expect(decodeHeaderValue(`=?base64?${btoa(' padded ')}?=`)).toBe(' padded ');
    // Not valid base64, or not UTF-8: the value as sent (it will then not match the body).
    expect(decodeHeaderValue('=?base64?***?=')).toBe('=?base64?***?=');
    expect(decodeHeaderValue(`=?base64?${btoa('\xff\xfe')}?=`)).toBe(`=?base64?${btoa('\xff\xfe')}?=`);
  });
});
