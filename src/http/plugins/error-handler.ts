import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAppError } from '../../internal/errors/app-error.js';
import type { ErrorCode } from '../../internal/errors/codes.js';
import { sendProblem } from '../problem.js';

interface ValidationIssue {
  instancePath?: string;
  keyword: string;
  message?: string;
  params?: Record<string, unknown>;
}

/**
 * A key of the client's JSON as the answer may repeat it: an identifier or an array index. Anything else — an
 * e-mail address or a phone number sent as a key, say — is personal data that must not come back in an error (nor
 * reach a log through it), so it is named only as "(a key)".
 */
const shownKey = (key: string): string => (/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(key) || /^\d{1,4}$/.test(key) ? key : '(a key)');

function issuePath(context: string | undefined, issue: ValidationIssue): string {
  const base = (issue.instancePath ?? '').split('/').filter(Boolean).map((k) => shownKey(k.replace(/~1/g, '/').replace(/~0/g, '~'))).join('.');
  const extra = issue.keyword === 'additionalProperties' ? shownKey(String(issue.params?.additionalProperty ?? '')) : issue.keyword === 'required' ? String(issue.params?.missingProperty ?? '') : '';
  return [context, base, extra].filter(Boolean).join('.');
}

// Fastify's own codes for malformed requests, mapped to ours so that bad input is never a 500.
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BODY_NOT_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BODY_NOT_JSON',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_BAD_URL: 'VALIDATION_FAILED',
  FST_ERR_INVALID_URL: 'VALIDATION_FAILED',
  FST_ERR_ASYNC_CONSTRAINT: 'VALIDATION_FAILED',
  FST_ERR_CTP_EMPTY_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
};

/** The one place errors become answers: problem+json with a stable code; internals never leak. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (isAppError(error)) {
      if (error.status >= 500) request.log.error({ err: error.cause ?? error, code: error.code }, 'service error');
      return sendProblem(reply, error.code, error.message, error.details ? { details: error.details } : {});
    }
    if (error.validation) {
      const issues = error.validation as ValidationIssue[];
      const unknown = issues.find((i) => i.keyword === 'additionalProperties');
      const list = issues.map((i) => ({ path: issuePath(error.validationContext, i), message: i.message ?? i.keyword }));
      if (unknown) return sendProblem(reply, 'UNKNOWN_FIELD', `The field ${issuePath(error.validationContext, unknown)} is not accepted here`, { errors: list });
      return sendProblem(reply, 'VALIDATION_FAILED', `The request is not valid: ${list.map((l) => `${l.path || error.validationContext} ${l.message}`).join('; ')}`, { errors: list });
    }
    const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
    if (mapped) return sendProblem(reply, mapped, mapped === 'BODY_TOO_LARGE' ? 'The request body is larger than this route accepts' : error.message);
    if (error.statusCode === 429) return sendProblem(reply, 'RATE_LIMITED', 'Too many requests from this address; try again later');
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return sendProblem(reply, 'VALIDATION_FAILED', 'The request could not be understood');
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, 'INTERNAL', 'Something went wrong on our side; the request id identifies it in our logs');
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, 'ROUTE_NOT_FOUND', `There is no route ${request.method} ${request.routeOptions.url ?? 'for this path'}`));
}

/**
 * Fastify's `frameworkErrors` option: errors found while routing (a URL that does not decode, an over-long
 * parameter) become our problem+json. Fastify's own answer is plain JSON that quotes the URL — which may hold
 * anything the client put there, personal data included.
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  void sendProblem(reply, 'VALIDATION_FAILED', error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A part of the URL is longer than this route accepts' : 'The URL is not valid');
}
