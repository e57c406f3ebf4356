import { LitElement, css, html } from 'lit';
import { previewRedaction } from '../policy';
import { base } from './styles';

/** A sample with a stated password, a keyed token and a card number, so a first look shows each rule at work. */
const SAMPLE = 'Login for bob: my password is hunter2\napi_key=k-1234-abcd\nPaid with card 4111 1111 1111 1111 on 2024-05-01.';

/**
 * What redaction makes of a sample text under the given sensitive patterns, computed here by
 * the same pure engine the server uses. Masked spans are highlighted, each titled with the
 * pattern or credential detector that found it. The sample is the person's own scratch text:
 * it is never sent or stored.
 */
export class RedactionPreview extends LitElement {
  static override styles = [
    base,
    css`
      h4 { margin: 0 0 4px; font-size: 13px; }
      textarea { min-height: 72px; line-height: 1.4; }
      pre { margin-top: 6px; }
      mark { background: var(--warn-bg); color: var(--warn); border-radius: 3px; padding: 0 2px; }
    `,
  ];
  static override properties = { patterns: { attribute: false }, sample: { state: true } };
  /** The sensitive patterns of the policy being edited. */
  patterns: readonly string[] = [];
  sample = SAMPLE;

  override render() {
    const { text, matches } = previewRedaction(this.sample, this.patterns);
    // Rebuild the output from the input and the spans, so each replacement can be marked.
    const parts: unknown[] = [];
    let last = 0;
    for (const m of matches) {
      parts.push(this.sample.slice(last, m.start), html`<mark title=${m.pattern}>${m.replacement}</mark>`);
      last = m.end;
    }
    parts.push(this.sample.slice(last));
    const found = [...new Set(matches.map((m) => m.pattern))];
    return html`<h4>Redaction preview</h4>
      <textarea
        class="code"
        spellcheck="false"
        aria-label="sample text to redact"
        data-testid="redaction-sample"
        .value=${this.sample}
        @input=${(e: Event) => (this.sample = (e.target as HTMLTextAreaElement).value)}
      ></textarea>
      <pre data-testid="redaction-result" aria-label=${`redacted: ${text}`}>${parts}</pre>
      <p class="muted small" data-testid="redaction-found">
        ${matches.length === 0 ? 'Nothing masked.' : `${matches.length} masked (${found.join(', ')}).`} Patterns:
        ${this.patterns.length ? this.patterns.join(', ') : 'none'}; credential formats and card numbers are masked for every agent.
      </p>`;
  }
}

customElements.define('redaction-preview', RedactionPreview);
declare global {
  interface HTMLElementTagNameMap {
    'redaction-preview': RedactionPreview;
  }
}
