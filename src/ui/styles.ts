import { css } from 'lit';

export const base = css`
  :host { font-family: system-ui, sans-serif; color: #0f172a; display: block; }
  h1, h2 { margin: 0.4em 0; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e2e8f0; vertical-align: top; }
  th { background: #f1f5f9; position: sticky; top: 0; }
  code, pre { font-family: ui-monospace, monospace; font-size: 12px; }
  pre { white-space: pre-wrap; word-break: break-word; background: #f8fafc; padding: 8px; border-radius: 6px; margin: 0; }
  button { font: inherit; padding: 4px 12px; border-radius: 6px; border: 1px solid #94a3b8; background: #fff; cursor: pointer; }
  button[aria-pressed='true'] { background: #0f172a; color: #fff; }
  .ok { color: #15803d; } .error, .denied, .interrupted { color: #b91c1c; } .pending, .info { color: #64748b; }
  .badge { display: inline-block; padding: 2px 8px; border-radius: 999px; font-size: 12px; }
  .badge.ok { background: #dcfce7; } .badge.error { background: #fee2e2; }
`;
