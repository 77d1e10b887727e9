import { ModelTrackingTaskManager, type JsonValue, type LifecycleEventName, type LifecyclePayload } from 'stablehand';

/** Who started a routine, as the demo's router reports them. */
export interface DemoUser {
  name: string;
  address?: string;
}

/**
 * The host's manager: the bundled record model, a readable user label, and a line in the log for
 * every failure, where a real app would notify its ops channel.
 */
export class AppTaskManager extends ModelTrackingTaskManager {
  protected override formatUser(user: unknown): JsonValue {
    const u = user as DemoUser | undefined;
    if (!u?.name) return 'Stable visitor';
    return u.address ? `${u.name} (${u.address})` : u.name;
  }

  protected override onLifecycle(event: LifecycleEventName, taskName: string, payload: LifecyclePayload): void {
    void super.onLifecycle(event, taskName, payload);
    if (event === 'fail') {
      console.warn(`[demo] routine "${payload.label}" (${payload.id}) failed: ${payload.error}`);
    }
  }
}
