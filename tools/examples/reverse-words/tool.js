// A tool written in JavaScript: reverses words. Exports of world mcp-sandbox:tool/tool.
export function describe() {
  return JSON.stringify({
    name: 'reverse_words',
    description: 'Reverses the order of the words in a text.',
    version: '1.0.0',
    author: 'docs example',
    tags: ['text'],
    categories: ['text'],
    inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'], additionalProperties: false },
    permissions: [],
    limits: { memoryMb: 64, cpuMs: 2000 },
  });
}
export function call(args) {
  const { text } = JSON.parse(args);
  if (typeof text !== 'string') throw 'invalid arguments: text must be a string';
  return JSON.stringify({ text: text.split(/\s+/).filter(Boolean).reverse().join(' ') });
}
