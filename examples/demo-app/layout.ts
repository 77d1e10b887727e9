/** The demo host's own pages: a masthead linking Home and Stable Routines, and a home page. */
export function homePage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pony Stables</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0; }
  header { display: flex; gap: 1.5rem; align-items: center; padding: 0.75rem 1.5rem; border-bottom: 1px solid #8884; }
  header strong { margin-right: auto; }
  header a { color: inherit; text-decoration: none; padding: 0.25rem 0; border-bottom: 2px solid transparent; }
  header a[aria-current="page"] { border-bottom-color: #14b8a6; }
  main { max-width: 44rem; padding: 1.5rem; }
</style>
</head>
<body>
<header><strong>Pony Stables</strong><a href="/" aria-current="page">Home</a><a href="/tasks/">Stable Routines</a></header>
<main>
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
