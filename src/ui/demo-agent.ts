import { LitElement, html } from 'lit';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { connect } from '../client/index';
import { base } from './styles';

const EXAMPLES: Record<string, unknown> = {
  text_stats: { text: 'The quick brown fox jumps over the lazy dog. The dog sleeps.' },
  json_query: { json: '{"user":{"name":"Ada","langs":["en","fr"]}}', path: '$.user.langs[1]' },
};

/** A demo agent: connects like any agent page would, lists its tools and calls them. */
export class DemoAgent extends LitElement {
  static override styles = base;
  static override properties = { tools: { state: true }, selected: { state: true }, output: { state: true }, status: { state: true } };
  tools: Tool[] = [];
  selected = '';
  output = '';
  status = 'connecting…';
  private client: Client | null = null;

  override async connectedCallback(): Promise<void> {
    super.connectedCallback();
    try {
      this.client = await connect({ agent: 'demo-agent', clientInfo: { name: 'demo-agent', version: '0.1.0' } });
      this.tools = (await this.client.listTools()).tools;
      this.selected = this.tools[0]?.name ?? '';
      this.status = `connected · ${this.tools.length} tools`;
    } catch (error) {
      this.status = `could not connect: ${(error as Error).message}`;
    }
  }

  private async call(): Promise<void> {
    const args = (this.renderRoot.querySelector('textarea') as HTMLTextAreaElement).value;
    try {
      const result = await this.client!.callTool({ name: this.selected, arguments: JSON.parse(args) as Record<string, unknown> });
      this.output = JSON.stringify(result, null, 2);
    } catch (error) {
      this.output = `error: ${(error as Error).message}`;
    }
  }

  override render() {
    return html`
      <h1>Demo agent</h1>
      <p>${this.status}</p>
      <select @change=${(e: Event) => (this.selected = (e.target as HTMLSelectElement).value)}>
        ${this.tools.map((t) => html`<option ?selected=${t.name === this.selected}>${t.name}</option>`)}
      </select>
      <p>${this.tools.find((t) => t.name === this.selected)?.description ?? ''}</p>
      <textarea rows="6" cols="80">${JSON.stringify(EXAMPLES[this.selected] ?? {}, null, 2)}</textarea>
      <p><button @click=${() => void this.call()}>Call</button></p>
      <pre>${this.output}</pre>
    `;
  }
}

customElements.define('demo-agent', DemoAgent);
declare global {
  interface HTMLElementTagNameMap {
    'demo-agent': DemoAgent;
  }
}
