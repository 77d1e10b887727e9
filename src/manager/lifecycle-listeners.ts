import mitt, { type Emitter, type Handler } from 'mitt';
import { InvalidInputError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { isThenable } from '../core/thenable.js';
import { LIFECYCLE_EVENTS, type LifecycleEventName, type LifecycleListener, type LifecyclePayload } from '../core/types.js';

type LifecycleEvents = Record<LifecycleEventName, LifecyclePayload>;

const EVENT_NAMES: ReadonlySet<string> = new Set(LIFECYCLE_EVENTS);

/**
 * The listeners of one manager, on a mitt emitter kept private so the public surface stays ours.
 * Each listener is wrapped so that one that throws is logged and the others still run.
 */
export class LifecycleListeners {
  private readonly emitter: Emitter<LifecycleEvents> = mitt<LifecycleEvents>();
  private readonly wrappers = new WeakMap<LifecycleListener, Map<LifecycleEventName, Handler<LifecyclePayload>>>();

  constructor(private readonly logger: Logger) {}

  /** Adds a listener (once per event); returns a function that removes it. */
  on(event: LifecycleEventName, listener: LifecycleListener): () => void {
    // Typed as an event name, but a JavaScript caller may pass anything (a symbol, which a template would throw on).
    const given: unknown = event;
    if (!EVENT_NAMES.has(event)) throw new InvalidInputError(`Unknown lifecycle event "${String(given)}".`);
    if (typeof listener !== 'function') throw new InvalidInputError('A lifecycle listener must be a function.');
    let byEvent = this.wrappers.get(listener);
    if (!byEvent) this.wrappers.set(listener, (byEvent = new Map<LifecycleEventName, Handler<LifecyclePayload>>()));
    if (!byEvent.has(event)) {
      const wrapper: Handler<LifecyclePayload> = (payload) => {
        try {
          // Typed as returning void, but an async listener returns a promise: its rejection
          // must be caught here, or Node would end the host process over it.
          const call: (payload: LifecyclePayload) => unknown = listener;
          const outcome = call(payload);
          if (isThenable(outcome)) outcome.then(undefined, (error: unknown) => this.failed(event, payload, 'rejected', error));
        } catch (error) {
          this.failed(event, payload, 'threw', error);
        }
      };
      byEvent.set(event, wrapper);
      this.emitter.on(event, wrapper);
    }
    return () => this.off(event, listener);
  }

  private failed(event: LifecycleEventName, payload: LifecyclePayload, how: 'threw' | 'rejected', error: unknown): void {
    this.logger.error(`[stablehand] a "${event}" listener ${how} for task ${payload.id}; the task goes on`, error);
  }

  /** Removes a listener added with {@link LifecycleListeners.on}. */
  off(event: LifecycleEventName, listener: LifecycleListener): void {
    const byEvent = this.wrappers.get(listener);
    const wrapper = byEvent?.get(event);
    if (!wrapper) return;
    this.emitter.off(event, wrapper);
    byEvent?.delete(event);
  }

  /** Whether any listener hears `event`. */
  has(event: LifecycleEventName): boolean {
    return (this.emitter.all.get(event)?.length ?? 0) > 0;
  }

  /** Calls the listeners of `event`, in the order they were added. */
  emit(event: LifecycleEventName, payload: LifecyclePayload): void {
    const handlers = this.emitter.all.get(event);
    // mitt copies the handler list on every emit so that one may unsubscribe mid-emit; with a
    // single handler there is nothing to protect, and this runs several times per task.
    if (handlers?.length === 1) (handlers[0] as Handler<LifecyclePayload>)(payload);
    else this.emitter.emit(event, payload);
  }
}
