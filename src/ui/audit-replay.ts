import { LitElement, css, html } from 'lit';
import type { CallOutcome, ReplayResult } from '../api/admin';
import { bytes, ms } from './format';
import './json-view';
import { base } from './styles';

/**
 * A replayed call beside its original (`audit.replay`): outcome, duration, error and the output
 * the audit kept, in the JSON viewer. Fires `select` (a seq: open that entry) and `close`.
 */
export class AuditReplay extends LitElement {
  static override styles = [
    base,
    css`
      .head { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-bottom: 10px; }
      .head h3 { font-size: 15px; }
      .sides { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 300px), 1fr)); gap: 12px; }
      .side { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; min-width: 0; }
      .side h4 { margin: 0 0 6px; font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); }
      .err { color: var(--bad); word-break: break-word; }
      section { margin-top: 10px; }
    `,
  ];
  static override properties = { result: { attribute: false }, pending: { attribute: false }, failure: { attribute: false } };
  result: ReplayResult | null = null;
  /** The call being replayed while the request runs. */
  pending: string | null = null;
  /** Why the replay was refused (`code: message`). */
  failure = '';

  private side(which: 'original' | 'replay', o: CallOutcome) {
    const badge = o.outcome === 'ok' ? 'ok' : o.outcome === 'pending' || o.outcome === 'info' ? '' : 'error';
    const output = o.output === null ? null : o.output;
    return html`<div class="side" data-testid="replay-${which}" data-call=${o.callId} data-seq=${o.seq}>
      <h4>${which === 'original' ? 'Original' : 'Replay, under the policy now'}</h4>
      <dl class="facts">
        <dt>call</dt><dd class="mono"><a href="#audit/${o.seq}" data-testid="replay-entry" @click=${(e: Event) => (e.preventDefault(), this.fire('select', o.seq))}>#${o.seq}</a> <span class="muted small">${o.callId}</span></dd>
        <dt>outcome</dt><dd><span class="badge ${badge}" data-testid="replay-outcome">${o.outcome}</span> <span class="muted small">${o.event}</span></dd>
        <dt>duration</dt><dd data-testid="replay-duration">${o.durationMs == null ? '–' : `${ms(o.durationMs)} ms`}</dd>
        <dt>memory</dt><dd>${o.memoryBytes == null ? '–' : bytes(o.memoryBytes)}</dd>
        <dt>when</dt><dd>${new Date(o.ts).toLocaleString()}</dd>
      </dl>
      ${o.error
        ? html`<p class="err" data-testid="replay-error"><strong>${o.error.code}</strong>${typeof o.error.details?.['rule'] === 'string' ? html` (${o.error.details['rule']})` : ''}: ${o.error.message}</p>`
        : ''}
      <section>
        <h4>Output</h4>
        ${output === null ? html`<p class="muted small">none recorded</p>` : html`<json-view data-testid="replay-output" .value=${output}></json-view>`}
      </section>
    </div>`;
  }

  private fire(name: string, detail?: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }

  override render() {
    const r = this.result;
    return html`<div class="card" data-testid="replay-panel" role="region" aria-label="replay">
      <div class="head">
        <h3>${r ? html`Replay of <span class="mono">${r.replayOf}</span>` : this.pending ? html`Replaying <span class="mono">${this.pending}</span>…` : 'Replay'}</h3>
        ${r ? html`<span class="muted small">as <a href="#agents/${encodeURIComponent(r.agentId)}">${r.agentId}</a> · ${r.tool}</span>` : ''}
        <span class="spacer"></span>
        <button class="link" data-testid="replay-close" @click=${() => this.fire('close')} aria-label="close replay">✕</button>
      </div>
      ${this.failure ? html`<p class="notice error" data-testid="replay-failure">${this.failure}</p>` : ''}
      ${r
        ? html`<section><h4>Arguments</h4><json-view .value=${r.args}></json-view></section>
            <div class="sides">${this.side('original', r.original)}${this.side('replay', r.replay)}</div>`
        : ''}
    </div>`;
  }
}

customElements.define('audit-replay', AuditReplay);
declare global {
  interface HTMLElementTagNameMap {
    'audit-replay': AuditReplay;
  }
}
