import { LitElement, css, html, type PropertyValues } from 'lit';
import type { AgentView } from '../client/admin';
import { TEMPLATES, parsePolicyDocumentText, serializePolicyDocument, toPolicyDocument, type PolicyDocument } from '../policy';
import { adminClient, describeError, download } from './admin';
import { time } from './format';
import type { AgentChangedEvent } from './grants-editor';
import { differences, effectiveOf } from './policy-fields';
import './redaction-preview';
import { base } from './styles';

interface Check {
  by: 'server' | 'local';
  at: number;
  ok: boolean;
  errors: { path: string; reason: string }[];
}

function savedText(agent: AgentView): string {
  return agent.policy ? serializePolicyDocument(agent.policy) : '';
}

/**
 * An agent's policy document as JSON text: validate (by the server, which is authoritative;
 * a local check runs while typing), save, import from and export to a file. Errors are listed
 * beside the editor as "field path — reason". Fires `agent-changed` after a save.
 */
export class PolicyEditor extends LitElement {
  static override styles = [
    base,
    css`
      .grid { display: grid; grid-template-columns: minmax(0, 3fr) minmax(240px, 2fr); gap: 14px; align-items: start; }
      @media (max-width: 900px) { .grid { grid-template-columns: minmax(0, 1fr); } textarea { min-height: 220px; } }
      textarea { min-height: 320px; line-height: 1.45; tab-size: 2; }
      textarea.dirty { border-color: #f59e0b; }
      ul.errors { list-style: none; margin: 8px 0 0; padding: 0; display: grid; gap: 6px; }
      ul.errors li { padding: 6px 8px; border-radius: 6px; background: var(--bad-bg); color: #7f1d1d; font-size: 13px; }
      ul.errors code { font-weight: 600; color: var(--bad); }
      ul.diff { margin: 6px 0 0; padding-left: 18px; font-size: 13px; }
      ul.diff del { color: var(--muted); }
      .panel h4 { margin: 0 0 4px; font-size: 13px; }
      .panel + .panel { margin-top: 12px; }
      input[type='file'] { display: none; }
      .actions { margin-top: 8px; }
    `,
  ];
  static override properties = {
    agent: { attribute: false },
    text: { state: true },
    check: { state: true },
    busy: { state: true },
    notice: { state: true },
    failure: { state: true },
  };
  agent: AgentView | null = null;
  text = '';
  check: Check | null = null;
  busy = false;
  notice = '';
  failure = '';
  /** The agent and version the text was loaded from. */
  private loadedFrom: { id: string; updatedAt: number; text: string } | null = null;
  private localTimer: ReturnType<typeof setTimeout> | undefined;

  private get dirty(): boolean {
    return this.loadedFrom !== null && this.text !== this.loadedFrom.text;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('agent') || !this.agent) return;
    const a = this.agent;
    const otherAgent = this.loadedFrom?.id !== a.id;
    // A newer saved version replaces the text unless the person has unsaved edits.
    if (otherAgent || (this.loadedFrom!.updatedAt !== a.updatedAt && !this.dirty)) {
      this.loadedFrom = { id: a.id, updatedAt: a.updatedAt, text: savedText(a) };
      this.text = this.loadedFrom.text;
      if (otherAgent) {
        this.check = null;
        this.notice = '';
        this.failure = '';
      }
    } else if (this.loadedFrom!.updatedAt !== a.updatedAt) {
      this.loadedFrom = { id: a.id, updatedAt: a.updatedAt, text: savedText(a) };
    }
  }

  private onInput(event: Event): void {
    this.text = (event.target as HTMLTextAreaElement).value;
    this.notice = '';
    clearTimeout(this.localTimer);
    this.localTimer = setTimeout(() => this.localCheck(), 250);
  }

  private localCheck(): void {
    if (!this.text.trim()) {
      this.check = null;
      return;
    }
    const result = parsePolicyDocumentText(this.text);
    this.check = { by: 'local', at: Date.now(), ok: result.ok, errors: result.ok ? [] : result.errors };
  }

  /** The server's verdict on the text (authoritative); the parsed document when valid. */
  private async validate(): Promise<PolicyDocument | null | undefined> {
    clearTimeout(this.localTimer);
    this.failure = '';
    if (!this.text.trim()) {
      this.check = { by: 'server', at: Date.now(), ok: true, errors: [] };
      return null;
    }
    const result = await (await adminClient()).request('policy.validate', { text: this.text });
    this.check = { by: 'server', at: Date.now(), ok: result.ok, errors: result.ok ? [] : result.errors };
    return result.ok ? result.policy : undefined;
  }

  private async run(action: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.notice = '';
    this.failure = '';
    try {
      await action();
    } catch (error) {
      this.failure = describeError(error);
    } finally {
      this.busy = false;
    }
  }

  private save(): Promise<void> {
    return this.run(async () => {
      const policy = await this.validate();
      if (policy === undefined) return;
      const agent = await (await adminClient()).request('agents.update', { id: this.agent!.id, policy });
      this.loadedFrom = { id: agent.id, updatedAt: agent.updatedAt, text: savedText(agent) };
      this.text = this.loadedFrom.text;
      this.notice = policy ? 'Saved: the new policy applies from the next call.' : 'Saved: the policy document is cleared; the template applies as is.';
      this.dispatchEvent(new CustomEvent('agent-changed', { detail: agent, bubbles: true, composed: true }) satisfies AgentChangedEvent);
    });
  }

  private async importFile(event: Event): Promise<void> {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    await this.run(async () => {
      if (file.size > 1024 * 1024) throw new Error(`${file.name} is larger than 1 MiB; a policy document is a small JSON file`);
      this.text = await file.text();
      await this.validate();
      this.notice = `Imported ${file.name}${this.check?.ok ? ' — valid; press Save to apply it' : ''}.`;
    });
  }

  private exportFile(): Promise<void> {
    return this.run(async () => {
      const id = this.agent!.id;
      download(`${id}.policy.json`, await (await adminClient()).request('policy.export', { id }), 'application/json');
    });
  }

  private fromTemplate(): void {
    this.text = serializePolicyDocument(toPolicyDocument(TEMPLATES[this.agent!.trustLevel]));
    this.localCheck();
  }

  override render() {
    const a = this.agent;
    if (!a) return '';
    const placeholder = `Empty: the ${a.trustLevel} template applies as is.\n\nWrite a document to refine it, e.g.\n{\n  "version": 1,\n  "limits": { "memoryMb": 64 },\n  "session": { "quietHours": null }\n}`;
    return html`
      <div class="grid">
        <div>
          <textarea
            class="code ${this.dirty ? 'dirty' : ''}"
            spellcheck="false"
            aria-label="policy document (JSON)"
            data-testid="policy-text"
            placeholder=${placeholder}
            .value=${this.text}
            @input=${(e: Event) => this.onInput(e)}
          ></textarea>
          <div class="row actions">
            <button @click=${() => void this.run(async () => void (await this.validate()))} ?disabled=${this.busy} data-testid="policy-validate">Validate</button>
            <button class="primary" @click=${() => void this.save()} ?disabled=${this.busy || !this.dirty} data-testid="policy-save">Save</button>
            <button @click=${() => ((this.text = this.loadedFrom?.text ?? ''), (this.check = null))} ?disabled=${!this.dirty}>Revert</button>
            <span class="spacer"></span>
            <button @click=${() => this.fromTemplate()} title="fill in every field of the ${a.trustLevel} template, to edit">Start from template</button>
            <button @click=${() => (this.renderRoot.querySelector('input[type=file]') as HTMLInputElement).click()} data-testid="policy-import">Import…</button>
            <input type="file" accept=".json,application/json" data-testid="policy-file" @change=${(e: Event) => void this.importFile(e)} />
            <button @click=${() => void this.exportFile()} ?disabled=${this.busy} title="the effective policy as a full document" data-testid="policy-export">Export</button>
          </div>
        </div>
        <div>${this.renderCheck()} ${this.renderPreview()} ${this.renderRedaction()}</div>
      </div>
    `;
  }

  private renderCheck() {
    const c = this.check;
    return html`<div class="panel" data-testid="policy-check">
      ${this.failure ? html`<p class="notice error">${this.failure}</p>` : ''}
      ${this.notice ? html`<p class="notice ok" data-testid="policy-notice">${this.notice}</p>` : ''}
      ${!c
        ? html`<p class="muted small">${this.dirty ? 'Unsaved changes.' : this.text.trim() ? 'Saved document.' : 'No document: the template applies as is.'} Validate asks the server, which has the last word.</p>`
        : c.ok
          ? html`<p class="notice ok" data-testid="policy-valid">✓ ${c.by === 'server' ? `The server accepts this document (${time(c.at)}).` : 'Looks valid (checked here; Validate asks the server).'}</p>`
          : html`<h4 class="error">${c.errors.length} problem${c.errors.length === 1 ? '' : 's'} ${c.by === 'server' ? html`found by the server` : html`<span class="muted small">(checked here as you type)</span>`}</h4>
              <ul class="errors" data-testid="policy-errors">
                ${c.errors.map((e) => html`<li><code>${e.path}</code> — ${e.reason}</li>`)}
              </ul>`}
    </div>`;
  }

  /** How the draft's sensitive patterns redact a sample; the saved ones while the draft does not parse. */
  private renderRedaction() {
    const a = this.agent!;
    const parsed = this.text.trim() ? parsePolicyDocumentText(this.text) : ({ ok: true, policy: null } as const);
    const patterns = parsed.ok ? effectiveOf(a.trustLevel, parsed.policy, a.changes).data.sensitivePatterns : a.effective.data.sensitivePatterns;
    return html`<div class="panel card" data-testid="policy-redaction">
      <redaction-preview .patterns=${patterns}></redaction-preview>
      ${parsed.ok ? '' : html`<p class="muted small">The document does not parse: showing the saved policy's patterns.</p>`}
    </div>`;
  }

  /** What saving the draft would change in the effective policy (computed here, from the same pure engine). */
  private renderPreview() {
    const a = this.agent!;
    if (!this.dirty) return '';
    const parsed = this.text.trim() ? parsePolicyDocumentText(this.text) : ({ ok: true, policy: null } as const);
    if (!parsed.ok) return '';
    const diff = differences(a.effective, effectiveOf(a.trustLevel, parsed.policy, a.changes));
    return html`<div class="panel card" data-testid="policy-preview">
      <h4>Saving would change</h4>
      ${diff.length === 0
        ? html`<p class="muted small">Nothing in the effective policy.</p>`
        : html`<ul class="diff">
            ${diff.map((d) => html`<li><span title=${d.path}>${d.label}</span>: <del>${d.before}</del> → <strong>${d.after}</strong></li>`)}
          </ul>`}
    </div>`;
  }
}

customElements.define('policy-editor', PolicyEditor);
declare global {
  interface HTMLElementTagNameMap {
    'policy-editor': PolicyEditor;
  }
}
