import { LitElement, css, html } from 'lit';
import type { AuditEntry } from '../store/schema';
import type { OpenedEntry } from '../store/audit';

const SEALED_TEXT = 'sealed — cannot be decrypted here (the key is gone or the ciphertext was changed)';
const unopened = (e: AuditEntry, field: 'args' | 'details') => ((e as OpenedEntry).unopened ?? []).includes(field);
import { bytes, duration, ms, pretty } from './format';
import { jsonDiff } from './json-diff';
import './json-view';
import { pinnedSeqs, togglePin } from './pins';

/** An agent's settings changed by `agents.update`, with what they held before (audited since before/after exist). */
function agentChange(e: AuditEntry): { change: Record<string, unknown>; before: Record<string, unknown>; revertOf?: number } | null {
  const d = e.details;
  if (e.event !== 'admin' || d?.['method'] !== 'agents.update' || typeof d['before'] !== 'object' || d['before'] === null || typeof d['change'] !== 'object') return null;
  return d as { change: Record<string, unknown>; before: Record<string, unknown>; revertOf?: number };
}
const show = (v: unknown) => (v === undefined ? html`<span class="muted">absent</span>` : html`<code>${JSON.stringify(v)}</code>`);
import { base } from './styles';

/** The denial facts a policy error carries, in the order a person reads them. */
const DENIAL_FACTS = [
  ['rule', 'rule'],
  ['limit', 'limit'],
  ['observed', 'observed'],
  ['retryAfterMs', 'retry after'],
  ['policyVersion', 'policy version'],
] as const;

function fact(key: string, value: unknown) {
  if (key === 'retryAfterMs' && typeof value === 'number') return html`<code>${duration(value)}</code> <span class="muted small">(${value} ms)</span>`;
  if (typeof value === 'string') return html`<code>${value}</code>`;
  const json = JSON.stringify(value);
  return json.length > 60 ? html`<pre tabindex="0">${pretty(value)}</pre>` : html`<code>${json}</code>`;
}

/**
 * Every field of one audit entry: arguments, error and policy denial facts, hashes, and the
 * call's other entries. Fires `select` (seq), `close`, `replay` (a call id: run it again) and
 * `open-call` (a call id: the original of a replay).
 */
export class AuditDetails extends LitElement {
  static override styles = [
    base,
    css`
      .head { display: flex; gap: 8px; align-items: center; margin-bottom: 10px; flex-wrap: wrap; }
      .head h3 { font-size: 15px; }
      section { margin-top: 12px; }
      section h4 { margin: 0 0 6px; font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); }
      pre { max-height: 280px; overflow: auto; }
      .err pre { max-height: 160px; background: #fff; }
      .err { border: 1px solid #fca5a5; background: #fff1f2; border-radius: 8px; padding: 8px 10px; }
      .err .code { font-weight: 700; color: var(--bad); }
      .err dl { margin-top: 6px; }
      .related button { margin: 0 4px 4px 0; }
      table.diff td { vertical-align: top; font-size: 12px; }
      table.diff td.was code { background: #fee2e2; }
      table.diff td.now code { background: #dcfce7; }
    `,
  ];
  static override properties = { entry: { attribute: false }, related: { attribute: false } };
  entry: AuditEntry | null = null;
  /** Other entries of the same call (request, result…), oldest first. */
  related: AuditEntry[] = [];

  /** A settings change shown as before → after, field by field, with a way to take it back (audited as a revert of this entry). */
  private renderChange(e: AuditEntry) {
    const c = agentChange(e);
    if (!c || !e.agentId) return '';
    const rows = jsonDiff(c.before, c.change);
    return html`<section data-testid="audit-change">
      <h4>Change${c.revertOf !== undefined ? html` <span class="muted">(reverts <a href="#audit/${c.revertOf}">#${c.revertOf}</a>)</span>` : ''}</h4>
      ${rows.length
        ? html`<table class="diff"><thead><tr><th>field</th><th>before</th><th>after</th></tr></thead><tbody>
            ${rows.map((r) => html`<tr data-testid="audit-change-row"><td><code>${r.path}</code></td><td class="was">${show(r.before)}</td><td class="now">${show(r.after)}</td></tr>`)}
          </tbody></table>`
        : html`<p class="muted small">Nothing changed.</p>`}
      <button data-testid="audit-revert" @click=${() => this.dispatchEvent(new CustomEvent('revert', { detail: { agentId: e.agentId, before: c.before, seq: e.seq } }))}>Revert to before</button>
    </section>`;
  }

  /** Moves focus to the panel (Escape closes it). */
  focusPanel(): void {
    (this.renderRoot.querySelector('[data-testid="audit-details"]') as HTMLElement | null)?.focus();
  }

  override render() {
    const e = this.entry;
    if (!e) return '';
    const d = e.error?.details ?? {};
    const known = new Set<string>(DENIAL_FACTS.map(([k]) => k));
    const otherFacts = Object.entries(d).filter(([k]) => !known.has(k));
    const event = (name: string, detail?: unknown) => this.dispatchEvent(new CustomEvent(name, { detail }));
    return html`<div class="card" data-testid="audit-details" tabindex="-1" role="region" aria-label="entry #${e.seq}" @keydown=${(k: KeyboardEvent) => k.key === 'Escape' && event('close')}>
      <div class="head">
        <h3>#${e.seq} · ${e.event}</h3>
        <span class="badge ${e.outcome === 'ok' ? 'ok' : e.outcome === 'error' || e.outcome === 'denied' || e.outcome === 'interrupted' ? 'error' : ''}">${e.outcome}</span>
        ${e.sealed?.length ? html`<span class="badge" data-testid="audit-sealed" title="stored encrypted (AES-GCM, data.encryptionRequired); shown decrypted here">🔒 encrypted at rest: ${e.sealed.join(', ')}</span>` : ''}
        <span class="spacer"></span>
        ${e.callId && e.agentId && e.event.startsWith('call.')
          ? html`<button class="link" data-testid="audit-details-replay" title="run this call again as ${e.agentId}, under its policy now" @click=${() => event('replay', e.callId)}>↻ Replay</button>`
          : ''}
        <button class="link" data-testid="audit-pin" @click=${() => (togglePin(e.seq), this.requestUpdate())}>${pinnedSeqs().includes(e.seq) ? '★ Unpin' : '☆ Pin'}</button>
        <button class="link" @click=${() => event('close')} aria-label="close details">✕</button>
      </div>
      ${e.error
        ? html`<div class="err" data-testid="audit-error">
            <div><span class="code">${e.error.code}</span> — ${e.error.message}</div>
            ${Object.keys(d).length
              ? html`<dl class="facts" data-testid="audit-denial">
                  ${DENIAL_FACTS.filter(([k]) => d[k] !== undefined).map(([k, label]) => html`<dt>${label}</dt><dd>${fact(k, d[k])}</dd>`)}
                  ${otherFacts.map(([k, v]) => html`<dt>${k}</dt><dd>${fact(k, v)}</dd>`)}
                </dl>`
              : ''}
          </div>`
        : ''}
      <section>
        <dl class="facts">
          <dt>time</dt><dd>${new Date(e.ts).toLocaleString()} <span class="muted small">(${new Date(e.ts).toISOString()})</span></dd>
          <dt>agent</dt><dd>${e.agentId ? html`<a href="#agents/${encodeURIComponent(e.agentId)}">${e.agentId}</a>` : '–'}</dd>
          <dt>tool</dt><dd>${e.tool ?? '–'}</dd>
          <dt>session</dt><dd class="mono">${e.sessionId ?? '–'}</dd>
          <dt>call</dt><dd class="mono">${e.callId ?? '–'}</dd>
          ${e.replayOf
            ? html`<dt>replay of</dt><dd class="mono"><a href="#audit" data-testid="audit-replay-of" @click=${(ev: Event) => (ev.preventDefault(), event('open-call', e.replayOf))}>#${e.replayOf}</a></dd>`
            : ''}
          <dt>duration</dt><dd>${e.durationMs == null ? '–' : `${ms(e.durationMs)} ms`}</dd>
          <dt>memory</dt><dd>${e.memoryBytes == null ? '–' : bytes(e.memoryBytes)}</dd>
        </dl>
      </section>
      ${e.args !== null && e.args !== undefined ? html`<section><h4>Arguments</h4>${unopened(e, 'args') ? html`<pre data-testid="audit-args">${SEALED_TEXT}</pre>` : html`<json-view data-testid="audit-args" .value=${e.args}></json-view>`}</section>` : ''}
      ${this.renderChange(e)}
      ${e.details ? html`<section><h4>Details</h4>${unopened(e, 'details') ? html`<pre>${SEALED_TEXT}</pre>` : html`<json-view data-testid="audit-details-json" .value=${e.details}></json-view>`}</section>` : ''}
      ${this.related.length > 1
        ? html`<section class="related">
            <h4>This call's entries</h4>
            ${this.related.map((r) => html`<button ?disabled=${r.seq === e.seq} @click=${() => event('select', r.seq)}>#${r.seq} ${r.event} · ${r.outcome}</button>`)}
          </section>`
        : ''}
      <section>
        <h4>Chain</h4>
        <dl class="facts">
          <dt>hash</dt><dd class="mono" data-testid="audit-hash">${e.hash}</dd>
          <dt>prevHash</dt><dd class="mono">${e.prevHash}</dd>
        </dl>
      </section>
    </div>`;
  }
}

customElements.define('audit-details', AuditDetails);
declare global {
  interface HTMLElementTagNameMap {
    'audit-details': AuditDetails;
  }
}
