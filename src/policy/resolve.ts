// Template + refinement → effective policy. The person running the sandbox writes the
// refinement, so it may widen as well as narrow; a field it leaves out comes from the
// template, and a list it gives replaces the template's list whole (no merging: what
// the document says is what applies).
import { clone } from './clone';
import type { PolicyDocument } from './document';
import { TEMPLATES } from './templates';
import type { EffectivePolicy, TrustLevel } from './types';

type Section = Exclude<keyof EffectivePolicy, 'trustLevel'>;
const SECTIONS: readonly Section[] = ['tools', 'limits', 'network', 'files', 'data', 'session'];

/**
 * `level` is the agent's trust level. A document that names its own `trustLevel` refines
 * that template instead: the document was written against it, and since a refinement may
 * widen anyway, this gives it no power it could not have had.
 */
export function resolvePolicy(level: TrustLevel, refinement?: PolicyDocument): EffectivePolicy {
  const trustLevel = refinement?.trustLevel ?? level;
  const template = TEMPLATES[trustLevel];
  const merged: Record<string, unknown> = { trustLevel };
  for (const name of SECTIONS) {
    // Copied: detached from the frozen template and from the caller's document.
    merged[name] = clone({ ...template[name], ...defined(refinement?.[name]) });
  }
  return merged as unknown as EffectivePolicy;
}

function defined(fields: object | undefined): Record<string, unknown> {
  if (fields === undefined) return {};
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}
