import type { FastifyReply } from 'fastify';
import { ERROR_CODES, type ErrorCode } from '../internal/errors/codes.js';

/** RFC 9457 problem details, with our stable `code`. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: ErrorCode | string;
  readonly detail: string;
  readonly instance?: string;
  readonly errors?: readonly { readonly path: string; readonly message: string }[];
  readonly [extra: string]: unknown;
}

export function sendProblem(reply: FastifyReply, code: ErrorCode, detail: string, extra: Record<string, unknown> = {}): FastifyReply {
  const { status, title } = ERROR_CODES[code];
  const body: Problem = { type: `https://pledge.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`, title, status, code, detail, instance: reply.request.id, ...extra };
  return reply.code(status).type('application/problem+json').send(body);
}
