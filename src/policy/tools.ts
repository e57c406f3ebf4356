// Which tools an agent may see and call. Names are exact and case-sensitive (MCP tool
// names are); `"*"` is the only wildcard. A blocked entry wins over an allowed one.
import type { EffectivePolicy } from './types';
import { ANY } from './types';
import { ALLOW, deny, type Decision } from './decision';

export function listNames(list: readonly string[], name: string): boolean {
  return list.includes(ANY) || list.includes(name);
}

export function isToolBlocked(policy: EffectivePolicy, tool: string): boolean {
  return listNames(policy.tools.blocked, tool);
}

/**
 * Tools of this category (test bundles such as the MCP conformance fixtures) are reached only by
 * an agent whose policy names them in `tools.allowed`: `"*"` does not reach them.
 */
export const RESTRICTED_CATEGORY = 'restricted';

export function isRestricted(tool: { categories?: readonly string[] }): boolean {
  return tool.categories?.includes(RESTRICTED_CATEGORY) ?? false;
}

export function isToolAllowed(policy: EffectivePolicy, tool: string, restricted = false): boolean {
  return (restricted ? policy.tools.allowed.includes(tool) : listNames(policy.tools.allowed, tool)) && !isToolBlocked(policy, tool);
}

/** The tools to show in tools/list: only those the agent could call. */
export function filterTools<T extends { name: string; categories?: readonly string[] }>(policy: EffectivePolicy, tools: readonly T[]): T[] {
  return tools.filter((tool) => isToolAllowed(policy, tool.name, isRestricted(tool)));
}

/** May `execute_code` run `language` for this agent (`tools.codeLanguages`)? */
export function decideCodeLanguage(policy: EffectivePolicy, language: string): Decision {
  if (listNames(policy.tools.codeLanguages, language)) return ALLOW;
  return deny('code.language-not-allowed', `execute_code may not run '${language}' for this agent (tools.codeLanguages); ${policy.tools.codeLanguages.length ? `use ${policy.tools.codeLanguages.join(' or ')}, or ` : ''}ask an admin to allow it.`, {
    limit: [...policy.tools.codeLanguages],
    observed: language,
  });
}
