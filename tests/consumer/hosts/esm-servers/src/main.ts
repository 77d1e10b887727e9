// An ESM TypeScript host on TypeORM 1 with the tables apps on PostgreSQL and MariaDB usually have:
// an auto-increment key with the task id in a unique column and an integer progress column (both
// databases), and a native uuid key (PostgreSQL). Each database is used when the suite's URL is set.
import 'reflect-metadata';
import { Column, DataSource, Entity, PrimaryColumn, PrimaryGeneratedColumn, type EntityTarget, type ObjectLiteral } from 'typeorm';
import { ModelTrackingTaskManager, StablehandTaskLock } from 'stablehand';

@Entity('consumer_job_run')
class JobRun {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ name: 'task_id', type: 'varchar', length: 36, unique: true }) taskId!: string;
  @Column({ type: 'varchar', length: 20 }) status!: string;
  @Column({ type: 'int', nullable: true }) progress!: number | null;
}

@Entity('consumer_uuid_job')
class UuidJob {
  @PrimaryColumn({ type: 'uuid' }) id!: string;
  @Column({ type: 'varchar', length: 20 }) status!: string;
  @Column({ type: 'int', nullable: true }) progress!: number | null;
}

interface Kinds {
  thirds: { upTo: number };
}

const NAMESPACE = 'sh_consumer_servers';

/** Runs one task on `entity` with locks, and checks the host's row and stablehand's reading of it. */
async function check(dataSource: DataSource, entity: EntityTarget<ObjectLiteral>, fieldMap: Record<string, string>): Promise<string> {
  const tasks = new ModelTrackingTaskManager<Kinds>({ dataSource, entity, fieldMap });
  tasks.define('thirds', { run: ({ input, progress }) => { progress(100 / 3); return input.upTo; } });
  await tasks.start();
  try {
    const { id } = await tasks.launch('thirds', { upTo: 3 }, { affected: ['order:1'], lock: true });
    for (let tries = 0; (await tasks.getTask(id))?.status !== 'DONE'; tries++) {
      if (tries > 200) throw new Error(`task ${id} did not finish`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const record = await tasks.getTask(id);
    if (record?.progress !== 33) throw new Error(`progress not rounded: ${JSON.stringify(record)}`);
    await tasks.cleanupCompletedTasks();
    // The lock was released: the same object can be locked again.
    await tasks.launch('thirds', { upTo: 1 }, { affected: ['order:1'], lock: true });
    return id;
  } finally {
    await tasks.stop();
  }
}

async function open(options: ConstructorParameters<typeof DataSource>[0]): Promise<DataSource> {
  const dataSource = new DataSource(options);
  await dataSource.initialize();
  return dataSource;
}

const done: string[] = [];
const postgresUrl = process.env.STABLEHAND_TEST_POSTGRES_URL;
if (postgresUrl) {
  const admin = await open({ type: 'postgres', url: postgresUrl });
  await admin.query(`CREATE SCHEMA IF NOT EXISTS "${NAMESPACE}"`);
  await admin.destroy();
  const dataSource = await open({ type: 'postgres', url: postgresUrl, schema: NAMESPACE, entities: [JobRun, UuidJob, StablehandTaskLock], synchronize: true });
  try {
    done.push(`postgres integer key ${await check(dataSource, JobRun, { id: 'taskId' })}`);
    done.push(`postgres uuid key ${await check(dataSource, UuidJob, {})}`);
  } finally {
    await dataSource.query(`DROP SCHEMA "${NAMESPACE}" CASCADE`);
    await dataSource.destroy();
  }
}
const mysqlUrl = process.env.STABLEHAND_TEST_MYSQL_URL;
if (mysqlUrl) {
  const admin = await open({ type: 'mysql', url: mysqlUrl });
  await admin.query(`CREATE DATABASE IF NOT EXISTS \`${NAMESPACE}\``);
  await admin.destroy();
  const url = new URL(mysqlUrl);
  url.pathname = `/${NAMESPACE}`;
  const dataSource = await open({ type: 'mysql', url: url.href, charset: 'utf8mb4', entities: [JobRun, StablehandTaskLock], synchronize: true });
  try {
    done.push(`mariadb integer key ${await check(dataSource, JobRun, { id: 'taskId' })}`);
  } finally {
    await dataSource.query(`DROP DATABASE \`${NAMESPACE}\``);
    await dataSource.destroy();
  }
}
console.log(`esm-servers: OK (task ${done.length > 0 ? done.join('; ') : 'none: STABLEHAND_TEST_POSTGRES_URL and STABLEHAND_TEST_MYSQL_URL are not set'})`);
