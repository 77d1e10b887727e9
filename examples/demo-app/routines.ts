import type { TaskContext } from 'stablehand';

/** Labels of the simulated stable routines, one picked at random per run. */
export const ROUTINE_LABELS = [
  'Restocking hay loft',
  'Brushing parade manes',
  'Polishing tack room brass',
  'Counting sugar-cube tins',
  'Oiling the carriage wheels',
  'Sweeping the paddock gate',
  'Refilling the water troughs',
] as const;

/** The ponies a routine can be for: each run is indexed under its pony (`pony:Clover`). */
export const PONIES = ['Clover', 'Biscuit', 'Pepper', 'Juniper', 'Maple'] as const;

/** One of {@link ROUTINE_LABELS}, at random, for the run's pony: the label of each routine run. */
export function pickRoutineLabel(input?: unknown): string {
  const pony = (input as { pony?: unknown } | undefined)?.pony;
  return typeof pony === 'string' ? `${pick(ROUTINE_LABELS)} for ${pony}` : pick(ROUTINE_LABELS);
}

/**
 * The page's Start button: a choice of pony, and each run indexed under it, so the page lists
 * every routine a pony had (`?affected=pony:Clover`) and each detail view links there.
 */
export const ROUTINE_KIND = {
  kind: 'stable-routine',
  fields: { pony: { type: 'enum', label: 'Pony', options: PONIES, required: true } },
  affected: (input: unknown) => `pony:${String((input as { pony?: unknown } | undefined)?.pony)}`,
} as const;

/** The demo's words for the task page, as the Stable Routines spec gives them. */
export const STABLE_ROUTINES_TEXTS = {
  title: 'Stable Routines',
  heading: 'Stable Routines',
  runLabel: 'Start Routine',
  runHint: 'Starts a simulated stable routine for the pony crew',
  emptyText: 'No routines underway. Start a routine to see the stable crew at work.',
} as const;

const SUCCESS_RESULTS = [
  'Routine complete: every stall passed inspection.',
  'All ponies groomed and gleaming.',
  'Tack room shines like a new horseshoe.',
  'Sugar-cube inventory reconciled to the last cube.',
] as const;

const FAILURE_MESSAGES = [
  'A pony ate the checklist.',
  'The hay loft ladder is missing a rung.',
  'Brass polish ran out halfway through.',
  'Someone left the paddock gate open; routine abandoned to round up the ponies.',
] as const;

const STEPS = ['Gathering tools', 'Getting to work', 'Checking every stall', 'Tidying up'] as const;

function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number; got "${raw}".`);
  return value;
}

/** Seconds a routine takes, low and high: `DURATION_RANGE="3,10"` by default. */
export const DURATION_RANGE: readonly [number, number] = (() => {
  const [low, high] = (process.env.DURATION_RANGE ?? '3,10').split(',').map(Number);
  if (!Number.isFinite(low) || !Number.isFinite(high) || low < 0 || high < low) {
    throw new Error(`DURATION_RANGE must be "low,high" in seconds with 0 <= low <= high; got "${process.env.DURATION_RANGE}".`);
  }
  return [low, high];
})();

/** Share of routines that fail, from 0 to 1: `FAILURE_RATE=0.2` by default. */
export const FAILURE_RATE = Math.min(1, numberFromEnv('FAILURE_RATE', 0.2));

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)];
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // stablehand aborts the signal with a DOMException.
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    }, { once: true });
  });
}

/** A simulated routine: works for a random duration, reports progress per step, sometimes fails. */
export async function runRoutine({ progress, signal }: TaskContext): Promise<string> {
  const [low, high] = DURATION_RANGE;
  const totalMs = (low + Math.random() * (high - low)) * 1000;
  const fails = Math.random() < FAILURE_RATE;
  // A failing routine gives up somewhere along the way rather than at the very end.
  const stopAt = fails ? 1 + Math.floor(Math.random() * (STEPS.length - 1)) : STEPS.length;
  for (let step = 0; step < stopAt; step++) {
    progress(Math.round((step / STEPS.length) * 100), STEPS[step]);
    await sleep(totalMs / STEPS.length, signal);
  }
  if (fails) throw new Error(pick(FAILURE_MESSAGES));
  progress(100, 'Done');
  return pick(SUCCESS_RESULTS);
}
