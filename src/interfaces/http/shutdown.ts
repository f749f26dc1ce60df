import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../platform/db.ts';

/** How long the requests under way may take to finish before their database work is cut short. */
export const SHUTDOWN_GRACE_MS = 2500;
/** How long the interrupted requests may take to send their 503. */
const ANSWER_MS = 1000;
/** Past this, the process exits whatever still runs. */
export const SHUTDOWN_LIMIT_MS = 5000;

/**
 * Stops a serving app: no connection is accepted, the live streams end, and the requests under
 * way get SHUTDOWN_GRACE_MS to finish; past it their database work is interrupted (an open
 * transaction rolls back, answered 503) and, a moment later, their connections are closed. Then
 * the database is checkpointed and closed.
 */
export async function stopServing(app: FastifyInstance, store: Store): Promise<void> {
  const closed = app.close();
  const by = (ms: number) =>
    Promise.race([closed.then(() => true), sleep(ms, false, { ref: false })]);
  if (!(await by(SHUTDOWN_GRACE_MS))) {
    app.log.warn(`requests still running after ${SHUTDOWN_GRACE_MS} ms: interrupting them`);
    store.abort();
    // the interrupted answer their 503; whatever still holds a connection then is cut off
    if (!(await by(ANSWER_MS))) app.server.closeAllConnections();
  }
  await closed;
  await store.shutdown();
}
