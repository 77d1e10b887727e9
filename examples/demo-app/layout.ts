import type { TaskPageLayoutInput } from 'stablehand';

// The host's own look: a masthead on every page, the task page included (through the router's
// `layout` option, which hands over the response's CSP nonce for this <style>).
const MASTHEAD_STYLES = `
  .demo-masthead { display: flex; gap: 1.5rem; align-items: center; padding: 0.75rem 1.5rem;
    border-bottom: 1px solid rgba(127, 127, 127, 0.3); font-family: system-ui, sans-serif; }
  .demo-masthead strong { margin-right: auto; }
  .demo-masthead a { color: inherit; text-decoration: none; padding: 0.25rem 0; border-bottom: 2px solid transparent; }
  .demo-masthead a[aria-current="page"] { border-bottom-color: #14b8a6; }
  .demo-home { max-width: 44rem; padding: 1.5rem; font-family: system-ui, sans-serif; line-height: 1.5; }
`;

function masthead(current: 'home' | 'tasks'): string {
  const link = (href: string, text: string, page: typeof current) =>
    `<a href="${href}"${current === page ? ' aria-current="page"' : ''}>${text}</a>`;
  return `<nav class="demo-masthead" aria-label="Site"><strong>Pony Stables</strong>${link('/', 'Home', 'home')}${link('/tasks/', 'Stable Routines', 'tasks')}</nav>`;
}

/** The router's `layout`: the masthead above the task page and the detail view. */
export function taskPageLayout({ body, nonce }: TaskPageLayoutInput): string {
  return `<style nonce="${nonce}">${MASTHEAD_STYLES}</style>${masthead('tasks')}${body}`;
}

/** The demo host's home page. */
export function homePage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Pony Stables</title>
<style>${MASTHEAD_STYLES} body { margin: 0; }</style>
</head>
<body>
${masthead('home')}
<main class="demo-home">
  <h1>Welcome to the stables</h1>
  <p>This small Express app shows stablehand at work. Every routine the crew runs is a task:
  stablehand records its lifecycle in a SQLite table through TypeORM, and the
  <a href="/tasks/">Stable Routines</a> page shows it live.</p>
  <p>Stop the app in the middle of a routine and start it again: the routine shows as abandoned,
  never stuck running.</p>
</main>
</body>
</html>`;
}
