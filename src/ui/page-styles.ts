/**
 * The page's stylesheet, inlined under the response's CSP nonce so the page makes no other request.
 * Colours are custom properties so the dark scheme only swaps values. Every text colour keeps a
 * WCAG AA contrast (4.5:1) on the backgrounds it is used on, badges on their soft fills included;
 * tests/e2e/accessibility.test.ts checks both schemes with axe-core.
 */
export const PAGE_STYLES = String.raw`
:root {
  --sh-bg: #f7f7f5; --sh-surface: #ffffff; --sh-text: #1f2328; --sh-muted: #61666e; --sh-line: #e3e3df;
  --sh-teal: #0a766c; --sh-teal-soft: #d9f2ee; --sh-amber: #955900; --sh-amber-soft: #fcefd6;
  --sh-red: #b82c26; --sh-red-soft: #fbe3e1; --sh-grey: #8d9199; --sh-grey-soft: #ececea;
  --sh-focus: #2f6fde; --sh-on-solid: #ffffff;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --sh-bg: #16181b; --sh-surface: #1e2125; --sh-text: #e6e6e3; --sh-muted: #9aa0a8; --sh-line: #30343a;
    --sh-teal: #3cc4b4; --sh-teal-soft: #17383a; --sh-amber: #f0a93a; --sh-amber-soft: #3a2e17;
    --sh-red: #f0716a; --sh-red-soft: #42201f; --sh-grey: #868b93; --sh-grey-soft: #2a2d31;
    --sh-focus: #7aa7ff; --sh-on-solid: #101214;
  }
}
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
body {
  margin: 0; background: var(--sh-bg); color: var(--sh-text);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif;
}
.sh-page { max-width: 760px; margin: 0 auto; padding: 32px 20px 64px; }
.sh-header h1 { font-size: 1.6rem; font-weight: 650; margin: 0 0 18px; letter-spacing: -0.01em; }
a { color: inherit; }
:focus-visible { outline: 2px solid var(--sh-focus); outline-offset: 2px; border-radius: 4px; }
.sh-visually-hidden {
  position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
.sh-runbar {
  display: flex; flex-wrap: wrap; align-items: center; gap: 8px 14px; padding: 14px 16px;
  background: var(--sh-surface); border: 1px solid var(--sh-line); border-radius: 10px; margin-bottom: 18px;
}
.sh-run, .sh-cancel {
  font: inherit; cursor: pointer; border-radius: 7px; border: 1px solid transparent; line-height: 1.2;
}
.sh-run { background: var(--sh-teal); color: var(--sh-on-solid); font-weight: 600; padding: 8px 16px; }
.sh-run:hover { filter: brightness(1.07); }
.sh-run:disabled, .sh-cancel:disabled { opacity: 0.6; cursor: progress; }
.sh-kind-label { font-weight: 600; }
.sh-kind { font: inherit; padding: 7px 10px; border-radius: 7px; border: 1px solid var(--sh-line); background: var(--sh-bg); color: inherit; }
.sh-worker { margin: 2px 0 0; color: var(--sh-muted); font-size: 0.85rem; }
.sh-fields { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 10px; border: 0; margin: 0; padding: 0; }
.sh-fields[hidden] { display: none; }
.sh-fields input[type="text"], .sh-fields input[type="number"], .sh-fields select { font: inherit; padding: 4px 6px; }
.sh-who { margin: 2px 0 0; color: var(--sh-muted); font-size: 0.85rem; overflow-wrap: anywhere; }
.sh-fleet { margin: 0 0 14px; font-size: 0.85rem; color: var(--sh-muted); }
.sh-fleet-list { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 16px; }
.sh-fleet-alert { margin: 6px 0 0; color: var(--sh-text); font-weight: 600; }
.sh-hint { margin: 0; color: var(--sh-muted); font-size: 0.9rem; }
.sh-error { margin: 0 0 12px; color: var(--sh-red); font-size: 0.9rem; }
.sh-notice {
  margin: 0 0 12px; padding: 6px 10px; font-size: 0.85rem; color: var(--sh-amber);
  background: var(--sh-amber-soft); border-radius: 6px; display: inline-block;
}
.sh-empty {
  margin: 0; padding: 28px 16px; text-align: center; color: var(--sh-muted);
  border: 1px dashed var(--sh-line); border-radius: 10px;
}
.sh-tasks { list-style: none; margin: 0; padding: 0; background: var(--sh-surface); border-radius: 10px; }
.sh-tasks:not(:empty) { border: 1px solid var(--sh-line); }
.sh-tasks > .sh-task { padding: 11px 16px; border-top: 1px solid var(--sh-line); }
.sh-tasks > .sh-task:first-child { border-top: 0; }
.sh-row { display: flex; align-items: center; gap: 12px; min-height: 28px; }
.sh-name { flex: 1 1 auto; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; text-decoration: none; font-weight: 500; }
.sh-name:hover { text-decoration: underline; }
.sh-meta { flex: none; color: var(--sh-muted); font-size: 0.85rem; font-variant-numeric: tabular-nums; min-width: 10.5em; text-align: right; }
.sh-badge {
  flex: none; font-size: 0.75rem; font-weight: 600; padding: 2px 9px; border-radius: 999px;
  letter-spacing: 0.02em;
}
.sh-badge--pending { color: var(--sh-amber); background: var(--sh-amber-soft); }
.sh-badge--running { color: var(--sh-teal); background: var(--sh-teal-soft); }
.sh-badge--done { color: var(--sh-muted); background: var(--sh-grey-soft); }
.sh-badge--failed { color: var(--sh-red); background: var(--sh-red-soft); }
.sh-badge--cancelled { color: var(--sh-muted); background: transparent; border: 1px solid var(--sh-line); }
.sh-actions { flex: none; width: 5.4em; display: flex; justify-content: flex-end; }
.sh-cancel { flex: none; background: transparent; color: var(--sh-muted); border-color: var(--sh-line); padding: 3px 10px; font-size: 0.82rem; }
.sh-cancel:hover { color: var(--sh-red); border-color: var(--sh-red); }

.sh-ind { position: relative; flex: none; width: 18px; height: 18px; display: inline-grid; place-items: center; }
.sh-dot {
  position: relative; width: 10px; height: 10px; border-radius: 50%;
  display: grid; place-items: center; font-size: 9px; font-weight: 700; line-height: 1; color: var(--sh-on-solid);
}
.sh-ring { position: absolute; inset: 4px; border-radius: 50%; border: 2px solid var(--sh-teal); opacity: 0; }
.sh-ind--pending .sh-dot { border: 2px solid var(--sh-amber); background: transparent; }
.sh-ind--running .sh-dot { background: var(--sh-teal); }
.sh-ind--running .sh-ring { animation: sh-pulse 1.8s cubic-bezier(0.2, 0.6, 0.4, 1) infinite; }
.sh-ind--running .sh-ring--late { animation-delay: 0.9s; }
.sh-ind--done .sh-dot, .sh-ind--failed .sh-dot, .sh-ind--cancelled .sh-dot { width: 15px; height: 15px; }
.sh-ind--done .sh-dot { background: var(--sh-teal); }
.sh-ind--done .sh-dot::after { content: "\2713"; }
.sh-ind--failed .sh-dot { background: var(--sh-red); }
.sh-ind--failed .sh-dot::after { content: "\00D7"; font-size: 12px; }
.sh-ind--cancelled .sh-dot { background: transparent; border: 2px solid var(--sh-grey); color: var(--sh-grey); }
.sh-ind--cancelled .sh-dot::after { content: "\2013"; font-size: 9px; }
@keyframes sh-pulse {
  0% { transform: scale(0.9); opacity: 0.7; }
  100% { transform: scale(2.3); opacity: 0; }
}
@media (prefers-reduced-motion: reduce) {
  .sh-ind--running .sh-ring { animation: none; }
  .sh-ind--running .sh-ring:not(.sh-ring--late) { opacity: 0.45; transform: scale(1.7); }
}

.sh-progress {
  display: block; width: calc(100% - 30px); margin: 8px 0 2px 30px; height: 6px;
  appearance: none; -webkit-appearance: none; border: 0; border-radius: 999px; overflow: hidden;
  background: var(--sh-grey-soft); color: var(--sh-teal);
}
.sh-progress::-webkit-progress-bar { background: var(--sh-grey-soft); border-radius: 999px; }
.sh-progress::-webkit-progress-value { background: var(--sh-teal); border-radius: 999px; transition: width 0.4s ease; }
.sh-progress::-moz-progress-bar { background: var(--sh-teal); border-radius: 999px; }
@media (prefers-reduced-motion: reduce) { .sh-progress::-webkit-progress-value { transition: none; } }
.sh-message, .sh-result {
  margin: 4px 0 0 30px; font-size: 0.86rem; color: var(--sh-muted);
  overflow-wrap: anywhere; white-space: pre-wrap;
}
.sh-task--failed .sh-result { color: var(--sh-red); }

.sh-back { margin: 0 0 14px; font-size: 0.9rem; }
.sh-back a { color: var(--sh-muted); text-decoration: none; }
.sh-back a:hover { text-decoration: underline; }
.sh-page--detail .sh-task { background: var(--sh-surface); border: 1px solid var(--sh-line); border-radius: 10px; padding: 18px 20px; }
.sh-page--detail .sh-meta { min-width: 0; text-align: left; }
.sh-detail-title { overflow-wrap: anywhere; }
.sh-fields { display: grid; grid-template-columns: max-content 1fr; gap: 8px 18px; margin: 18px 0 0; }
.sh-fields dt { color: var(--sh-muted); font-size: 0.88rem; }
.sh-fields dd { margin: 0; min-width: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; white-space: pre-wrap; }
.sh-pre { margin: 0; font: 0.88rem/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre-wrap; overflow-wrap: anywhere; }
.sh-task--failed [data-field="error"] { color: var(--sh-red); }
@media (max-width: 520px) {
  .sh-row { flex-wrap: wrap; }
  .sh-meta { min-width: 0; }
}
.sh-retry { flex: none; background: transparent; color: var(--sh-teal); border: 1px solid var(--sh-line); border-radius: 6px; padding: 3px 10px; font: inherit; font-size: 0.82rem; cursor: pointer; }
.sh-retry:hover { border-color: var(--sh-teal); }
.sh-retry:disabled { opacity: 0.6; cursor: progress; }
.sh-search { display: flex; gap: 8px; margin: 0 0 12px; }
.sh-search input { flex: 1; min-width: 0; font: inherit; padding: 6px 10px; border: 1px solid var(--sh-line); border-radius: 6px; background: var(--sh-surface); color: var(--sh-text); }
.sh-search-go { font: inherit; padding: 6px 14px; border: 1px solid var(--sh-line); border-radius: 6px; background: var(--sh-surface); color: var(--sh-text); cursor: pointer; }
.sh-tabs ul { display: flex; flex-wrap: wrap; gap: 4px; list-style: none; margin: 0 0 12px; padding: 0; border-bottom: 1px solid var(--sh-line); }
.sh-tab { display: inline-flex; align-items: center; gap: 6px; padding: 6px 10px; color: var(--sh-muted); text-decoration: none; border-bottom: 2px solid transparent; margin-bottom: -1px; }
.sh-tab:hover { color: var(--sh-text); }
.sh-tab[aria-current="page"] { color: var(--sh-text); border-bottom-color: var(--sh-teal); font-weight: 600; }
.sh-count { font-size: 0.78rem; font-variant-numeric: tabular-nums; background: var(--sh-grey-soft); color: var(--sh-text); border-radius: 999px; padding: 0 7px; }
.sh-filter { margin: 0 0 12px; color: var(--sh-muted); overflow-wrap: anywhere; }
.sh-filter strong { color: var(--sh-text); }
.sh-pager { display: flex; justify-content: space-between; margin: 16px 0 0; }
.sh-page-link { padding: 6px 12px; border: 1px solid var(--sh-line); border-radius: 6px; text-decoration: none; }
.sh-page-link[aria-disabled="true"] { color: var(--sh-muted); border-style: dashed; }
.sh-section { margin: 22px 0 0; }
.sh-section h2 { font-size: 1rem; font-weight: 650; margin: 0 0 8px; }
.sh-timeline { list-style: none; margin: 0; padding: 0 0 0 14px; border-left: 2px solid var(--sh-line); }
.sh-timeline li { margin: 0 0 8px; overflow-wrap: anywhere; white-space: pre-wrap; }
.sh-timeline time { color: var(--sh-muted); font-size: 0.85rem; font-variant-numeric: tabular-nums; margin-right: 6px; }
.sh-affected { margin: 0; padding-left: 18px; overflow-wrap: anywhere; }
.sh-metrics-box { margin: 28px 0 0; }
.sh-metrics-box > summary { cursor: pointer; font-weight: 650; }
/* The summary already says "Metrics"; the section keeps its heading for screen readers. */
.sh-metrics-box #sh-metrics-title { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.sh-metrics h2 { font-size: 1rem; margin: 12px 0 6px; }
.sh-metrics h3 { font-size: 0.92rem; color: var(--sh-muted); margin: 14px 0 6px; }
.sh-metrics-kinds { list-style: none; margin: 0; padding: 0; }
.sh-metrics-row { display: grid; grid-template-columns: 1fr 240px; gap: 4px 16px; padding: 10px 0; border-top: 1px solid var(--sh-line); }
.sh-metrics-kind { margin: 0; font-size: 0.95rem; overflow-wrap: anywhere; grid-column: 1 / -1; }
.sh-metrics-figures { display: flex; flex-wrap: wrap; gap: 2px 14px; margin: 0; font-size: 0.85rem; }
.sh-metrics-figures dt { color: var(--sh-muted); }
.sh-metrics-figures dd { margin: 0; font-variant-numeric: tabular-nums; }
.sh-metrics-figures div { display: flex; gap: 4px; }
.sh-metrics-chart { width: 240px; height: 48px; }
.sh-bar-done { fill: var(--sh-teal); }
.sh-bar-failed { fill: var(--sh-red); }
.sh-bar-cancelled { fill: var(--sh-grey); }
.sh-chart-baseline { fill: var(--sh-line); }
.sh-metrics-empty { color: var(--sh-muted); margin: 4px 0; }
@media (max-width: 520px) {
  .sh-metrics-row { grid-template-columns: 1fr; }
}
`;
