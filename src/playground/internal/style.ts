/**
 * The pages' style sheet: one column on a phone, two from 860 px; the binding message large enough
 * to compare at a glance (CIBA Core 7.1); light and dark colours from the system's preference.
 */
export const STYLE = `
:root {
  color-scheme: light dark;
  --bg: #f4f5f7; --card: #ffffff; --text: #1b1f24; --muted: #5a6270; --line: #d8dce3;
  --accent: #1f5fbf; --accent-text: #ffffff; --ok: #1a7f37; --bad: #b42318; --code-bg: #eef1f5;
  --radius: 10px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif;
  font-size: 16px; line-height: 1.45;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111418; --card: #1b2027; --text: #e8eaed; --muted: #a2abb8; --line: #343b46;
    --accent: #6ea8ff; --accent-text: #0b1220; --ok: #4cc26a; --bad: #ff7b72; --code-bg: #232a33;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); }
header, main { max-width: 1280px; margin: 0 auto; padding: 0 16px; }
header { padding-top: 16px; }
h1 { font-size: 1.5rem; margin: 0 0 4px; }
h2 { font-size: 1.15rem; margin: 0 0 8px; }
h3 { font-size: 1rem; margin: 12px 0 4px; }
.lead { margin: 0 0 12px; color: var(--muted); }
nav { font-size: 0.9rem; margin-bottom: 8px; }
a { color: var(--accent); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); padding: 16px; margin: 0 0 16px; }
label { display: block; font-weight: 600; margin: 12px 0 4px; }
.hint { font-weight: 400; color: var(--muted); font-size: 0.875rem; }
input[type="text"], select {
  width: 100%; font: inherit; padding: 10px 12px; border: 1px solid var(--line); border-radius: 8px;
  background: var(--card); color: var(--text);
}
fieldset { border: 0; padding: 0; margin: 0; }
legend { font-weight: 600; padding: 0; margin: 0 0 4px; }
.modes { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 8px; }
.modes label { display: flex; align-items: center; gap: 6px; margin: 0; font-weight: 500; border: 1px solid var(--line); border-radius: 8px; padding: 8px; cursor: pointer; min-height: 44px; }
.modes label:has(input:checked) { border-color: var(--accent); outline: 2px solid var(--accent); }
button {
  font: inherit; font-weight: 600; border-radius: 8px; padding: 12px 18px; cursor: pointer; border: 1px solid transparent;
  min-height: 44px;
}
button:disabled { opacity: 0.55; cursor: default; }
button.primary, button.approve { background: var(--accent); color: var(--accent-text); }
button.deny { background: transparent; color: var(--bad); border-color: var(--bad); }
.actions { display: flex; gap: 12px; margin-top: 14px; }
.actions button { flex: 1; }
form .actions button { flex: 0 1 auto; }
details { margin-top: 12px; }
summary { cursor: pointer; color: var(--accent); }
pre, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.8125rem; }
pre { background: var(--code-bg); border-radius: 8px; padding: 10px; margin: 6px 0 0; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
.status { font-weight: 600; }
.ok { color: var(--ok); }
.bad { color: var(--bad); }
[hidden] { display: none !important; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }

/* The authentication device */
.requests { list-style: none; margin: 0; padding: 0; display: grid; gap: 16px; grid-template-columns: repeat(auto-fill, minmax(min(100%, 360px), 1fr)); }
.request h2 { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 4px 12px; }
.request .for { font-weight: 400; color: var(--muted); font-size: 0.95rem; }
.binding-label { margin: 8px 0 2px; color: var(--muted); font-size: 0.875rem; }
.binding {
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 2.25rem; font-weight: 700; letter-spacing: 0.08em; line-height: 1.2; margin: 0 0 8px;
  padding: 8px 12px; background: var(--code-bg); border-radius: 8px; overflow-wrap: anywhere;
  white-space: pre-wrap;
}
.binding.none { font-size: 1rem; font-family: inherit; font-weight: 400; letter-spacing: 0; color: var(--muted); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 8px 0 0; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
.countdown { font-variant-numeric: tabular-nums; font-weight: 700; }
.countdown.soon { color: var(--bad); }
.empty { color: var(--muted); }
#subject { max-width: 420px; }

/* The consumption device */
.layout { display: grid; gap: 0 16px; grid-template-columns: minmax(0, 1fr); align-items: start; }
@media (min-width: 860px) {
  .layout { grid-template-columns: minmax(280px, 340px) minmax(0, 1fr); }
  .layout .start { grid-row: 1 / span 2; }
}
@media (min-width: 1200px) {
  .layout { grid-template-columns: 310px minmax(0, 1fr) minmax(0, 1fr); }
  .layout .start { grid-row: auto; }
}
.log details { margin: 2px 0 0 0; }
.log summary { font-size: 0.8125rem; }
.log { list-style: none; margin: 0; padding: 0; }
.log li { border-top: 1px solid var(--line); padding: 8px 0; overflow-wrap: anywhere; }
.log li:first-child { border-top: 0; }
.log .when { color: var(--muted); font-variant-numeric: tabular-nums; font-size: 0.75rem; margin-right: 4px; }
.log .what { font-weight: 600; }
.log .code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.875rem; background: var(--code-bg); border-radius: 4px; padding: 1px 5px; white-space: nowrap; }
.checks { list-style: none; padding: 0; margin: 6px 0 0; }
.result details { margin: 8px 0 16px; }
.checks li { padding: 2px 0; }
.shown-binding { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 1.75rem; font-weight: 700; letter-spacing: 0.08em; white-space: pre-wrap; overflow-wrap: anywhere; }
`
