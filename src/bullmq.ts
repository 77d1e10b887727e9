// The `stablehand/bullmq` entry point: task execution on BullMQ queues (bullmq is an optional
// peer dependency, needed only by hosts that import this entry).
export { BullMqRunner, type BullMqRunnerOptions, type BullMqJobData } from './adapters/bullmq/bullmq-runner.js';
