// Shared by the consumer hosts: drives the mounted router over real HTTP the way the page does.
// Exits the process with 0 when a launched task is read back DONE, 1 otherwise.
export async function checkRouter(baseUrl, { expectLabelPrefix } = {}) {
  const page = await fetch(`${baseUrl}/tasks/`);
  if (page.status !== 200) throw new Error(`GET /tasks/ answered ${page.status}`);
  const html = await page.text();
  if (!html.includes('<h1>Tasks</h1>')) throw new Error('the page has no "Tasks" heading');
  const cookie = page.headers.get('set-cookie') ?? '';
  const token = /stablehand_csrf=([^;]+)/.exec(cookie)?.[1];
  if (!token) throw new Error(`no CSRF cookie in ${cookie}`);
  const run = await fetch(`${baseUrl}/tasks/run/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: `stablehand_csrf=${token}`, 'x-csrf-token': token },
    body: JSON.stringify({ kind: 'consumer-check' }),
  });
  const launched = await run.json();
  if (run.status !== 201 || launched.status !== 'PENDING') throw new Error(`POST /tasks/run/ answered ${run.status} ${JSON.stringify(launched)}`);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const status = await (await fetch(`${baseUrl}/tasks/status/`)).json();
    const task = status.tasks.find((t) => t.id === launched.id);
    if (task?.status === 'DONE') {
      if (expectLabelPrefix && !task.label.startsWith(expectLabelPrefix)) throw new Error(`unexpected label ${task.label}`);
      const detail = await (await fetch(`${baseUrl}/tasks/${launched.id}/`, { headers: { accept: 'application/json' } })).json();
      return { launched, task, detail };
    }
    if (task && task.status !== 'PENDING' && task.status !== 'RUNNING') throw new Error(`task ended ${task.status}: ${task.result}`);
    if (Date.now() > deadline) throw new Error(`task ${launched.id} did not finish: ${JSON.stringify(task)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
