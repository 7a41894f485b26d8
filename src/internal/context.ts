import { randomUUID } from 'node:crypto';

export type ActorType = 'user' | 'staff' | 'service' | 'device' | 'system' | 'anonymous';

export interface Actor {
  readonly type: ActorType;
  readonly id: string;
}

/**
 * Who is acting, why and from where: built once per HTTP request, CLI command or job, passed to
 * every service call and written into every audit entry.
 */
export interface ActorContext {
  readonly actor: Actor;
  readonly requestId: string;
  readonly ip?: string | undefined;
  readonly purpose?: string | undefined;
}

export const systemContext = (job: string): ActorContext => ({ actor: { type: 'system', id: job }, requestId: randomUUID() });

export const actorLabel = (a: Actor): string => `${a.type}:${a.id}`;
