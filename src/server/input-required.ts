import { CreateMessageResultSchema, ElicitResultSchema, ErrorCode, ListRootsResultSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { bytesToBase64, base64ToBytes, sha256Hex } from '../store/hash';
import type { Sealed } from '../store/sealing';
import type { ServerContext } from './context';

/**
 * A tool's requests to the client in the 2026-07-28 revision (SEP-2322, "multi round-trip
 * requests"). That revision has no channel on which the server could ask the client mid-call:
 * the server answers `resultType: "input_required"` with the questions (`inputRequests`, by
 * key) and an opaque `requestState`, and the client sends the same request again with
 * `inputResponses` (by key) and that state.
 *
 * Here a round is a whole run: the tool runs from the start on every request. A
 * `client-request` whose answer the request carries (in `inputResponses`, or in the state of
 * earlier rounds) is answered at once; one it does not carry fails in the tool with
 * `input-required: …`, is remembered, and once the tool has returned (its output is not
 * sent) the agent gets an InputRequiredResult naming every unanswered request of the run. A
 * tool that asks everything it needs before acting on any answer is done in two rounds; one
 * that acts on each answer before asking the next takes a round per question. Each round is a
 * call like any other: admitted, counted and audited.
 *
 * The state holds the answers of earlier rounds, sealed (AES-GCM with the sandbox's own
 * key, `Sealer`) for this agent, this tool or prompt, these arguments and 15 minutes: the
 * client can neither read it nor change it, and it opens for no other call.
 *
 * The key of a request is the tool's (`params._meta['mcp-sandbox/input-key']`, taken out
 * before the request is shown) or `<kind>-<n>`, the n-th request of the run (`elicitation-1`).
 */

/** Where a tool names the key of a client request; removed before the request goes out. */
export const INPUT_KEY_META = 'mcp-sandbox/input-key';
/** JSON-RPC code of the 2026-07-28 revision: a request needs a capability the client did not declare. */
export const MISSING_CLIENT_CAPABILITY = -32021;
const STATE_TTL_MS = 15 * 60_000;
/** Largest state (its text) accepted or issued; answers beyond it are refused in the tool. */
export const MAX_STATE_CHARS = 256 * 1024;
const MAX_KEY_CHARS = 128;

/** The client capability each method a tool may ask needs, and the schema of its answer. */
export const CLIENT_ASKS = {
  'sampling/createMessage': { capability: 'sampling', schema: CreateMessageResultSchema },
  'elicitation/create': { capability: 'elicitation', schema: ElicitResultSchema },
  'roots/list': { capability: 'roots', schema: ListRootsResultSchema },
} as const;
export type ClientMethod = keyof typeof CLIENT_ASKS;

export function isClientMethod(method: string): method is ClientMethod {
  return Object.hasOwn(CLIENT_ASKS, method);
}

/** A request to the client as the InputRequiredResult lists it. */
export interface InputRequest {
  method: ClientMethod;
  params: Record<string, unknown>;
}

/** What binds a state to one call: who, what, with which arguments. */
export interface RoundBinding {
  agentId: string;
  /** `tools/call` or `prompts/get`. */
  method: string;
  name: string;
  args: unknown;
}

interface StateBody {
  v: 1;
  args: string;
  exp: number;
  answers: Record<string, unknown>;
}

/** The key of a request, and its params without the key. */
export function keyOf(method: ClientMethod, params: Record<string, unknown>, index: number): { key: string; params: Record<string, unknown> } {
  const meta = params['_meta'];
  if (typeof meta === 'object' && meta !== null && !Array.isArray(meta) && INPUT_KEY_META in meta) {
    const { [INPUT_KEY_META]: named, ...rest } = meta as Record<string, unknown>;
    const { _meta: _dropped, ...others } = params;
    const clean = Object.keys(rest).length ? { ...others, _meta: rest } : others;
    if (typeof named === 'string' && named.length > 0 && named.length <= MAX_KEY_CHARS) return { key: named, params: clean };
    return { key: `${CLIENT_ASKS[method].capability}-${index}`, params: clean };
  }
  return { key: `${CLIENT_ASKS[method].capability}-${index}`, params };
}

/** Thrown into the tool (as its request's failure) when the answer is not in the request. */
export class InputRequiredSignal extends Error {}

/**
 * One request's round: the answers it carries and the questions the run asked that it did not.
 * Created by the stateless endpoint after the state verified (`openRound`).
 */
export class InputRound {
  /** Unanswered requests of this run, by key, in the order asked. */
  readonly pending = new Map<string, InputRequest>();
  /** Answers the run was given that are not a valid result of what it asked, by key. */
  readonly invalid = new Map<string, string>();
  /** Capabilities the run needed that the client did not declare. */
  readonly missing = new Set<string>();
  /** Answers the run used (those carried on into the next state). */
  private readonly used = new Map<string, unknown>();
  private asked = 0;

  constructor(
    private readonly ctx: ServerContext,
    private readonly binding: RoundBinding,
    private readonly answers: Record<string, unknown>,
    private readonly declared: Record<string, unknown>,
  ) {}

  /** The answer to a tool's request, or a failure the tool sees (its request is then pending). */
  ask(method: string, raw: Record<string, unknown>): unknown {
    if (!isClientMethod(method)) throw new Error(`a tool may ask the client only ${Object.keys(CLIENT_ASKS).join(', ')}`);
    const { capability, schema } = CLIENT_ASKS[method];
    this.asked += 1;
    if (!(capability in this.declared)) {
      this.missing.add(capability);
      throw new Error(`the client did not declare the capability ${capability} (io.modelcontextprotocol/clientCapabilities)`);
    }
    const { key, params } = keyOf(method, raw, this.asked);
    if (Object.hasOwn(this.answers, key)) {
      const answer = this.answers[key];
      const parsed = schema.safeParse(answer);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const reason = `inputResponses[${JSON.stringify(key)}] is not a valid result of ${method}${issue ? `: ${issue.path.join('.') || '(the answer)'}: ${issue.message}` : ''}`;
        this.invalid.set(key, reason);
        throw new Error(reason);
      }
      this.used.set(key, answer);
      return parsed.data;
    }
    this.pending.set(key, { method, params });
    throw new InputRequiredSignal(
      `input-required: the client is asked ${method} (${JSON.stringify(key)}) and this request carries no answer yet; return now: the agent is asked, and this call runs again with the answer`,
    );
  }

  /** The InputRequiredResult of this round: the pending requests and the answers so far, sealed. */
  async result(): Promise<{ resultType: 'input_required'; inputRequests: Record<string, InputRequest>; requestState: string }> {
    const body: StateBody = { v: 1, args: await argsHash(this.binding.args), exp: this.ctx.clock() + STATE_TTL_MS, answers: Object.fromEntries(this.used) };
    const sealed = await this.ctx.sealer.seal(body, sealContext(this.binding));
    const requestState = toBase64Url(JSON.stringify(sealed));
    if (requestState.length > MAX_STATE_CHARS) throw new McpError(ErrorCode.InternalError, `the answers of this call's earlier rounds exceed ${MAX_STATE_CHARS} characters of state; the call cannot go on`);
    return { resultType: 'input_required', inputRequests: Object.fromEntries(this.pending), requestState };
  }
}

/**
 * Opens the round of one stateless request: verifies its `requestState` (sealed for this very
 * call, not expired) and merges its answers with the request's `inputResponses` (which win).
 * A state that does not verify is refused with -32602, before anything runs.
 */
export async function openRound(ctx: ServerContext, binding: RoundBinding, params: Record<string, unknown>, declared: Record<string, unknown>): Promise<InputRound> {
  const state = params['requestState'];
  const responses = params['inputResponses'];
  if (responses !== undefined && !isObject(responses)) throw invalid('inputResponses must be an object of answers by key', 'invalid-input-response');
  // Each answer is the result the client would have sent: an object (its shape is checked
  // against the request it answers when the run asks it).
  for (const [key, answer] of Object.entries((responses ?? {}) as Record<string, unknown>)) {
    if (!isObject(answer)) throw invalid(`inputResponses[${JSON.stringify(key)}] must be an object: the client's result of the request`, 'invalid-input-response');
  }
  let earlier: Record<string, unknown> = {};
  if (state !== undefined) {
    if (typeof state !== 'string' || state.length > MAX_STATE_CHARS) throw invalid('requestState must be the string this server issued');
    earlier = await openState(ctx, binding, state);
  }
  return new InputRound(ctx, binding, { ...earlier, ...((responses as Record<string, unknown> | undefined) ?? {}) }, declared);
}

async function openState(ctx: ServerContext, binding: RoundBinding, state: string): Promise<Record<string, unknown>> {
  let body: StateBody;
  try {
    body = (await ctx.sealer.open(JSON.parse(fromBase64Url(state)) as Sealed, sealContext(binding))) as StateBody;
  } catch {
    throw invalid('requestState does not verify: it was changed, or it was issued for another agent, tool or prompt');
  }
  if (body.v !== 1 || body.args !== (await argsHash(binding.args))) throw invalid('requestState was issued for this call with other arguments');
  if (!(body.exp > ctx.clock())) throw invalid('requestState has expired: send the request again without it');
  return body.answers;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sealContext(binding: RoundBinding): string {
  return `input-required\0${binding.agentId}\0${binding.method}\0${binding.name}`;
}

function argsHash(args: unknown): Promise<string> {
  return sha256Hex(JSON.stringify(args ?? {}));
}

function invalid(message: string, code: 'invalid-request-state' | 'invalid-input-response' = 'invalid-request-state'): McpError {
  return new McpError(ErrorCode.InvalidParams, message, { code });
}

function toBase64Url(text: string): string {
  return bytesToBase64(new TextEncoder().encode(text)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): string {
  const standard = text.replaceAll('-', '+').replaceAll('_', '/');
  return new TextDecoder('utf-8', { fatal: true }).decode(base64ToBytes(standard + '='.repeat((4 - (standard.length % 4)) % 4)));
}

/**
 * The answer of a stateless request that may have asked the client: -32602 when an answer
 * it was given is not a result of the request it answers; the round's
 * InputRequiredResult when the run left questions unanswered (whatever the run itself ended
 * in: a tool told `input-required` fails or returns early); -32021 naming the capabilities
 * when the run failed for want of one the client did not declare; else the run's own outcome.
 */
export async function finishRound<T>(round: InputRound, run: () => Promise<T>, failed: (result: T) => boolean): Promise<T | Awaited<ReturnType<InputRound['result']>>> {
  let result: T;
  try {
    result = await run();
  } catch (error) {
    if (round.invalid.size) throw invalidAnswers(round);
    if (round.pending.size) return round.result();
    if (round.missing.size) throw missingCapability(round);
    throw error;
  }
  if (round.invalid.size) throw invalidAnswers(round);
  if (round.pending.size) return round.result();
  if (round.missing.size && failed(result)) throw missingCapability(round);
  return result;
}

function invalidAnswers(round: InputRound): McpError {
  return new McpError(ErrorCode.InvalidParams, [...round.invalid.values()].join('; '), { code: 'invalid-input-response', keys: [...round.invalid.keys()] });
}

function missingCapability(round: InputRound): McpError {
  const names = [...round.missing];
  return new McpError(MISSING_CLIENT_CAPABILITY, `this request needs the client capabilit${names.length > 1 ? 'ies' : 'y'} ${names.join(', ')}, which it did not declare in io.modelcontextprotocol/clientCapabilities`, {
    requiredCapabilities: Object.fromEntries(names.map((name) => [name, {}])),
  });
}
