import { LitElement, css, html } from 'lit';
import type { AgentView } from '../client/admin';
import { TEMPLATES } from '../policy';
import { SECTIONS, formatValue, same, valueAt, type Field } from './policy-fields';
import { base } from './styles';
import { trustBadge } from './trust';

/**
 * The agent's effective policy (read-only), side by side with its trust level's template:
 * rows the policy document changes are marked "policy", rows run-time grants or revokes
 * changed are marked "grant".
 */
export class PolicySummary extends LitElement {
  static override styles = [
    base,
    css`
      .sections { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 440px), 1fr)); gap: 12px; align-items: start; }
      th { position: static; }
      col.c-label { width: 36%; }
      col.c-template { width: 22%; }
      td.label { color: #334155; white-space: nowrap; }
      td.value { font-weight: 500; }
      td.template { color: var(--muted); }
      .added { color: var(--ok); font-weight: 500; white-space: nowrap; }
      .removed { color: var(--bad); white-space: nowrap; }
      tr.changed td { background: #eff6ff; }
      tr.changed td.label { box-shadow: inset 3px 0 0 var(--accent); }
      tr.granted td { background: #fefce8; }
      tr.granted td.label { box-shadow: inset 3px 0 0 #ca8a04; }
      .src { font-size: 11px; padding: 0 6px; }
      .legend { display: flex; gap: 12px; flex-wrap: wrap; font-size: 12px; color: var(--muted); margin: 6px 0 10px; }
      .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
      .sw-policy { background: #bfdbfe; } .sw-grant { background: #fde68a; }
      @media (max-width: 760px) { .hide-narrow { display: none; } col.c-template { width: 0; } col.c-label { width: 45%; } }
    `,
  ];
  static override properties = { agent: { attribute: false } };
  agent: AgentView | null = null;

  /** The template's value; for lists, what the policy added (+) and removed (−) instead. */
  private renderTemplate(value: unknown, base: unknown, f: Field) {
    if (!Array.isArray(value) || !Array.isArray(base)) return formatValue(base, f);
    const added = value.filter((v) => !base.some((b) => same(b, v)));
    const removed = base.filter((b) => !value.some((v) => same(b, v)));
    if (added.length + removed.length === 0) return html`same items, other order`;
    return html`<span title=${`template: ${formatValue(base, f)}`}
      >${added.map((v) => html`<span class="added">+${String(v)}</span> `)}${removed.map((v) => html`<del class="removed">−${String(v)}</del> `)}</span
    >`;
  }

  override render() {
    const a = this.agent;
    if (!a) return '';
    const eff = a.effective;
    const template = TEMPLATES[eff.trustLevel];
    const doc = a.policy as Record<string, unknown> | null;
    const fromDocument = (path: string) => valueAt(doc, path) !== undefined;
    const changedCount = SECTIONS.flatMap((s) => s.fields).filter((f) => !same(valueAt(eff, f.path), valueAt(template, f.path))).length;
    return html`
      <div class="row">
        <h3>Effective policy</h3>
        ${trustBadge(eff.trustLevel)}
        <span class="muted small">${changedCount === 0 ? 'exactly the template' : `${changedCount === 1 ? '1 setting differs' : `${changedCount} settings differ`} from the ${eff.trustLevel} template`}</span>
      </div>
      ${eff.trustLevel !== a.trustLevel
        ? html`<p class="notice info">The policy document names its own template, <strong>${eff.trustLevel}</strong>, instead of the agent's level ${a.trustLevel}.</p>`
        : ''}
      <div class="legend">
        <span><span class="swatch sw-policy"></span>changed by the policy document</span>
        <span><span class="swatch sw-grant"></span>changed by a grant or revoke</span>
      </div>
      <div class="sections" data-testid="effective-policy">
        ${SECTIONS.map(
          (section) => html`<div class="table-wrap">
            <table>
              <colgroup><col class="c-label" /><col /><col class="c-template" /></colgroup>
              <thead><tr><th>${section.title}</th><th>in force</th><th class="hide-narrow">vs. template</th></tr></thead>
              <tbody>
                ${section.fields.map((f) => {
                  const value = valueAt(eff, f.path);
                  const base = valueAt(template, f.path);
                  const differs = !same(value, base);
                  const source = differs ? (fromDocument(f.path) ? 'policy' : 'grant') : '';
                  return html`<tr class=${source === 'policy' ? 'changed' : source === 'grant' ? 'granted' : ''} data-field=${f.path}>
                    <td class="label" title=${f.path}>${f.label}</td>
                    <td class="value" data-testid="eff-${f.path}">
                      ${formatValue(value, f)} ${source ? html`<span class="badge src ${source === 'policy' ? 'Trusted' : 'warn'}">${source}</span>` : ''}
                    </td>
                    <td class="template hide-narrow">${differs ? this.renderTemplate(value, base, f) : html`<span title="same as in force">=</span>`}</td>
                  </tr>`;
                })}
              </tbody>
            </table>
          </div>`,
        )}
      </div>
    `;
  }
}

customElements.define('policy-summary', PolicySummary);
declare global {
  interface HTMLElementTagNameMap {
    'policy-summary': PolicySummary;
  }
}
