// A CommonJS host on TypeORM 0.3 + node-sqlite3, as many apps still are.
require('reflect-metadata');
const express = require('express');
const { join } = require('node:path');
const { DataSource } = require('typeorm');
const { CreateStablehandTables1732000000000, ModelTrackingTaskManager, createTaskRouter, stablehandEntities } = require('stablehand');

async function main() {
  const { checkRouter } = await import('../check-router.mjs');
  const dataSource = new DataSource({
    type: 'sqlite',
    database: join(process.cwd(), 'host.db'),
    entities: stablehandEntities,
    migrations: [CreateStablehandTables1732000000000],
  });
  await dataSource.initialize();
  await dataSource.runMigrations();
  const manager = new ModelTrackingTaskManager({ dataSource });
  manager.define('consumer-check', { label: 'Consumer check', run: async ({ progress }) => { progress(50); return 'ok'; } });
  await manager.start();
  const app = express();
  app.use('/tasks', createTaskRouter(manager, { kinds: ['consumer-check'] }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { launched } = await checkRouter(`http://127.0.0.1:${server.address().port}`);
    const row = await dataSource.getRepository('StablehandTaskRecord').findOneByOrFail({ id: launched.id });
    if (row.status !== 'DONE' || row.result !== 'ok' || row.cleanedUp !== true) throw new Error(`row not as expected: ${JSON.stringify(row)}`);
    console.log(`cjs-typeorm03: OK (task ${launched.id} ${row.status})`);
  } finally {
    server.close();
    await manager.stop();
    await dataSource.destroy();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
