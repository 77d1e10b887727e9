import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError, TaskManager, renderAffectedTasks } from '../../src/index.js';
import { waitFor } from '../helpers/wait.js';

class Order {
  constructor(readonly id: number) {}
}

describe('renderAffectedTasks (an object\'s tasks on a host\'s own page)', () => {
  let manager: TaskManager | undefined;
  afterEach(async () => {
    await manager?.stop({ graceMs: 0 });
  });

  it('lists the newest tasks that touched the object as links under the mount path, every value escaped', async () => {
    manager = new TaskManager();
    manager.define('invoice', { label: 'Invoice', run: () => 'sent' });
    await manager.start();
    const ids: string[] = [];
    for (let n = 0; n < 4; n++) {
      ids.push((await manager.launch('invoice', undefined, { affected: new Order(42), label: `Invoice <script>alert(${n})</script> & "co"` })).id);
    }
    await manager.launch('invoice', undefined, { affected: new Order(43) });
    const started = manager;
    await waitFor(async () => (await started.countTasks({ affected: 'order:42' })).DONE === 4, 5_000, 'the invoices');

    const html = await renderAffectedTasks(manager, 'order:42', { basePath: '/ops/tasks/', limit: 3 });
    const links = [...html.matchAll(/<a [^>]*href="([^"]+)"/g)].map((match) => match[1]);
    expect(links).toEqual([...ids.slice(1).reverse().map((id) => `/ops/tasks/${id}/`), '/ops/tasks/?affected=order%3A42']);
    expect(html).not.toMatch(/<script|style=/);
    expect(html).toContain('Invoice &lt;script&gt;alert(3)&lt;/script&gt; &amp; &quot;co&quot;');
    expect(html).toContain('Done');

    const fallback = await renderAffectedTasks(manager, 'order:43');
    expect(fallback).toMatch(/href="\/tasks\/[0-9a-f-]{36}\/"/);
    expect(await renderAffectedTasks(manager, 'order:44')).toContain('No task has touched it yet.');
    await expect(renderAffectedTasks(manager, 'order')).rejects.toBeInstanceOf(InvalidInputError);
    await expect(renderAffectedTasks(manager, 'order:42', { limit: 0 })).rejects.toBeInstanceOf(InvalidInputError);
  });
});
