import { css } from 'lit';

/** Shared look of every view: type, tables, forms, buttons, badges, panels. */
export const base = css`
  :host {
    --ink: #0f172a;
    --muted: #475569;
    --line: #e2e8f0;
    --soft: #f8fafc;
    --panel: #ffffff;
    --accent: #2563eb;
    --ok: #15803d;
    --ok-bg: #dcfce7;
    --bad: #b91c1c;
    --bad-bg: #fee2e2;
    --warn: #a16207;
    --warn-bg: #fef9c3;
    --info-bg: #e0e7ff;
    font-family: system-ui, -apple-system, 'Segoe UI', sans-serif;
    font-size: 14px;
    line-height: 1.4;
    color: var(--ink);
    display: block;
  }
  * { box-sizing: border-box; }
  h1, h2, h3 { margin: 0; line-height: 1.25; }
  h2 { font-size: 18px; }
  h3 { font-size: 15px; }
  p { margin: 0.4em 0; }
  a { color: var(--accent); }
  .muted { color: var(--muted); }
  .nowrap { white-space: nowrap; }
  .small { font-size: 12px; }

  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { background: #f1f5f9; position: sticky; top: 0; font-weight: 600; color: #334155; white-space: nowrap; z-index: 1; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  tr.clickable { cursor: pointer; }
  tr.clickable:hover td { background: #f1f5f9; }
  tr.clickable:focus-visible { outline: 2px solid #2563eb; outline-offset: -2px; }
  tr.selected td { background: #e0e7ff; }
  .table-wrap { overflow: auto; border: 1px solid var(--line); border-radius: 8px; background: var(--panel); }
  .table-wrap table td:first-child, .table-wrap table th:first-child { padding-left: 12px; }

  code, pre, textarea.code { font-family: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace; font-size: 12px; }
  pre { white-space: pre-wrap; word-break: break-word; background: var(--soft); border: 1px solid var(--line); padding: 8px; border-radius: 6px; margin: 0; }
  .mono { font-family: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; }

  button, .button {
    font: inherit; font-size: 13px; padding: 4px 12px; border-radius: 6px; border: 1px solid #cbd5e1; background: #fff;
    color: var(--ink); cursor: pointer; white-space: nowrap; text-decoration: none; display: inline-block; line-height: 1.5;
  }
  button:hover:not(:disabled), .button:hover { background: #f1f5f9; }
  button:disabled { opacity: 0.5; cursor: default; }
  button.primary { background: var(--ink); border-color: var(--ink); color: #fff; }
  button.primary:hover:not(:disabled) { background: #1e293b; }
  button.danger { color: var(--bad); border-color: #fca5a5; }
  button.danger:hover:not(:disabled) { background: var(--bad-bg); }
  button.danger.armed { background: var(--bad); color: #fff; border-color: var(--bad); }
  button.link { border: none; background: none; color: var(--accent); padding: 0 2px; }
  button.link:hover:not(:disabled) { background: none; text-decoration: underline; }

  input, select, textarea {
    font: inherit; font-size: 13px; font-weight: 400; padding: 4px 8px; border: 1px solid #cbd5e1; border-radius: 6px; background: #fff; color: var(--ink);
  }
  input:focus, select:focus, textarea:focus, button:focus-visible, a:focus-visible, [tabindex]:focus-visible { outline: 2px solid #2563eb; outline-offset: 0; border-color: var(--accent); }
  textarea { width: 100%; resize: vertical; }
  label { display: grid; gap: 3px; align-content: start; font-size: 12px; font-weight: 600; color: #334155; }
  select { max-width: 100%; }
  label.inline { display: inline-flex; align-items: center; gap: 6px; font-weight: 500; }
  .hint { font-weight: 400; color: var(--muted); font-size: 12px; }

  .row { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
  .row.end { justify-content: flex-end; }
  .spacer { flex: 1; }
  .stack { display: grid; gap: 12px; }
  .card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
  .card > h3 { margin-bottom: 10px; }
  .toolbar { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 12px; }
  .toolbar h2 { margin-right: 8px; }

  .ok { color: var(--ok); }
  .error, .interrupted { color: var(--bad); }
  .denied { color: #b45309; }
  .pending, .info { color: var(--muted); }
  .badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 500; white-space: nowrap; background: #f1f5f9; color: #334155; }
  .badge.ok { background: var(--ok-bg); color: var(--ok); }
  .badge.error, .badge.bad { background: var(--bad-bg); color: var(--bad); }
  .badge.warn { background: var(--warn-bg); color: var(--warn); }
  .badge.info { background: var(--info-bg); color: #3730a3; }
  .badge.source.uploaded { background: #e0e7ff; color: #3730a3; }
  .badge.source.discovered { background: #ccfbf1; color: #115e59; }
  .badge.Untrusted { background: #fee2e2; color: #991b1b; }
  .badge.Limited { background: #fef3c7; color: #92400e; }
  .badge.Trusted { background: #dbeafe; color: #1e40af; }
  .badge.FullyTrusted { background: #ede9fe; color: #5b21b6; }

  .notice { padding: 8px 12px; border-radius: 8px; border: 1px solid; font-size: 13px; }
  .notice.error { background: var(--bad-bg); border-color: #fca5a5; color: #7f1d1d; }
  .notice.warn { background: var(--warn-bg); border-color: #fde047; color: #713f12; }
  .notice.ok { background: var(--ok-bg); border-color: #86efac; color: #14532d; }
  .notice.info { background: #eff6ff; border-color: #bfdbfe; color: #1e3a8a; }
  .empty { padding: 16px; color: var(--muted); text-align: center; }

  dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 0; font-size: 13px; }
  dl.facts dt { color: var(--muted); }
  dl.facts dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
`;
