/**
 * The policy engine: pure functions from (policy, request, state, now) to a decision.
 * No I/O, no clock, no globals but `Intl` and the WHATWG `URL` parser: time always
 * arrives as `now` (epoch ms), and state (recent call times, session counters, active
 * calls) is passed in by the caller, who also stores it.
 *
 * The model:
 * - A **policy document** is versioned JSON (`{"version": 1, "trustLevel"?, …}`) that
 *   refines a **trust level**'s template (Untrusted, Limited, Trusted, FullyTrusted).
 *   Fields it leaves out come from the template; lists it gives replace the template's.
 *   Unknown fields are errors; each error names its field path.
 * - `resolvePolicy` turns level + document into an **effective policy**, every field set.
 * - Deny by default: an empty list allows nothing and "any" is written `["*"]`. Every
 *   allow list has a deny list beside it (`tools.blocked`, `network.blockedDomains`,
 *   `files.blockedPatterns`), and deny wins. Hosts that are IP literals are compared as
 *   addresses, not strings (`addresses.ts`), and `network.blockPrivateNetworks` denies every
 *   private-network destination in one rule.
 * - `decideToolCall`, `decideNetwork` and `decideFile` return a **decision**: allow, or a
 *   denial naming the rule (a stable `RuleId`), a sentence saying what would allow it,
 *   and where useful the limit, the observed value and when to retry.
 * - `applyGrant` / `applyRevoke` open or close exactly the one tool, host or path they
 *   name, returning a new policy.
 * - `Redactor` (one per call; `redact` / `redactValue` for one text or value) hides secret
 *   values — of keys the policy names, in credential formats, and repeats of either — in the
 *   audit log, and in what an agent receives when the policy's `data.redactForAgent` says so.
 *
 * Each concern lives in its own file; the comment at the top of each says why it decides
 * the way it does (session timeout, glob, URL and redaction semantics).
 */
export { ANY, CODE_LANGUAGE_NAMES, TRUST_LEVELS } from './types';
export type {
  CallState,
  DataRules,
  EffectivePolicy,
  FileOp,
  FileRequest,
  FileRules,
  Grant,
  Limits,
  NetworkRequest,
  NetworkRules,
  QuietHours,
  Revoke,
  SessionRules,
  ToolCall,
  ToolLimits,
  ToolRules,
  TrustLevel,
} from './types';
export { ALLOW, deny, type Decision, type Denial, type RuleId } from './decision';
export { TEMPLATES } from './templates';
export {
  parsePolicyDocument,
  parsePolicyDocumentText,
  serializePolicyDocument,
  toPolicyDocument,
  type PolicyDocument,
  type PolicyParseResult,
} from './document';
export type { PolicyError } from './errors';
export { policyDocumentSchema, grantSchema } from './schema';
export { resolvePolicy } from './resolve';
export { applyGrant, applyRevoke, parseGrant } from './grants';
export { decideToolAccess, decideToolCall } from './tool-call';
export { decideCodeLanguage, filterTools, isRestricted, isToolAllowed, RESTRICTED_CATEGORY } from './tools';
export { effectiveLimits } from './limits';
export { decideNetwork } from './network';
export { parseUrl, type ParsedUrl } from './url';
export { findPrivateExemption, matchesDomain, type MatchUse } from './domains';
export {
  canonicalIp,
  formatIp,
  formatRange,
  hostAddresses,
  inRange,
  parseCidr,
  parseIp,
  parseIpv4,
  parseIpv6,
  possibleIpv4,
  privateDestination,
  privateNameOf,
  privateRangeOf,
  type HostAddresses,
  type IpAddress,
  type IpRange,
  type PrivateDestination,
  type PrivateMatch,
} from './addresses';
export { decideFile } from './files';
export { normalisePath, type NormalPath } from './paths';
export { matchesPathPattern } from './glob';
export { checkRate, RATE_WINDOW_MS, RateWindow, type RateCheck } from './rate';
export { isQuietTime, msUntilQuietEnds } from './quiet-hours';
export {
  findSensitive,
  MAX_DEPTH,
  previewRedaction,
  redact,
  redactForAgent,
  Redactor,
  redactValue,
  REDACTED,
  TOO_DEEP,
  type RedactionPreview,
  type SensitiveMatch,
  type TextRedaction,
  type ValueRedaction,
} from './sensitive';
export { CREDENTIAL_DETECTORS } from './credentials';
export {
  contextLayer,
  decideLayered,
  intersectPolicies,
  narrowedPolicy,
  parseSecurityLevel,
  PERMISSIVE,
  securityLevelKey,
  SECURITY_PRESETS,
  type PolicyLayer,
  type SecurityLevel,
  type SecurityPreset,
} from './intersect';
export {
  checkValue,
  decideCapacity,
  decideConversationId,
  decideLevelChange,
  decideName,
  decideVisible,
  decideWrite,
  homeOf,
  isSharingRule,
  MAX_CONVERSATIONS,
  MAX_UPDATES,
  MAX_VALUE_BYTES,
  MAX_VARIABLES,
  PRECEDENCE,
  readContextUpdates,
  SHARING_RULES,
  type ContextActor,
  type ContextDecision,
  type ContextDenial,
  type ContextRuleId,
  type ContextUpdate,
  type ContextViewer,
  type SharingRule,
  type VariableHome,
} from './sharing';
