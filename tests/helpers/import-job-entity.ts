import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A host's own record model: other property and column names, its own status words. */
@Entity('import_job')
export class ImportJob {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  uuid!: string;

  @Column({ name: 'job_kind', type: 'varchar', length: 80 })
  kind!: string;

  @Column({ type: 'varchar', length: 20 })
  state!: string;

  @Column({ type: 'text', nullable: true })
  note!: string | null;

  @Column({ name: 'progress_info', type: 'text', nullable: true })
  progressInfo!: string | null;

  @Column({ type: 'simple-json', nullable: true })
  payload!: unknown;

  @Column({ type: 'text', nullable: true })
  outcome!: string | null;

  @Column({ name: 'started_by', type: 'varchar', length: 120, nullable: true })
  startedBy!: string | null;

  @Column({ name: 'touched', type: 'text', nullable: true })
  touched!: string | null;

  @Column({ type: Date, precision: 3 })
  created!: Date;

  @Column({ type: Date, precision: 3, nullable: true })
  finished!: Date | null;
}

/** The fieldMap that binds {@link ImportJob} to stablehand's record keys. */
export const importJobFieldMap = {
  id: 'uuid',
  taskName: 'kind',
  status: 'state',
  message: 'note',
  progress: 'progressInfo',
  input: 'payload',
  result: 'outcome',
  user: 'startedBy',
  affected: 'touched',
  createdAt: 'created',
  completedAt: 'finished',
} as const;

/** The host's words for statuses. */
export const importJobStatusValues = {
  PENDING: 'pending', RUNNING: 'in_progress', DONE: 'success', FAILED: 'failed', CANCELLED: 'cancelled',
} as const;
