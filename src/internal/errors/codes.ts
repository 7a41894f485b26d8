/** Every error the API can answer with: a stable code, its HTTP status and a title for people. */
export const ERROR_CODES = {
  VALIDATION_FAILED: { status: 400, title: 'The request is not valid' },
  BODY_NOT_JSON: { status: 400, title: 'The body is not valid JSON' },
  UNKNOWN_FIELD: { status: 400, title: 'The request has a field we do not accept' },
  UNDECLARED_FIELD: { status: 400, title: 'The field is not declared in the policy' },
  UNKNOWN_PURPOSE: { status: 400, title: 'The purpose is not declared in the policy' },
  UNKNOWN_CATEGORY: { status: 400, title: 'The data category is not declared in the policy' },
  UNAUTHENTICATED: { status: 401, title: 'Sign in first' },
  FORBIDDEN: { status: 403, title: 'You may not do this' },
  PURPOSE_DENIED: { status: 403, title: 'This use of the data is not allowed' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  ROUTE_NOT_FOUND: { status: 404, title: 'There is no such route' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  CONFLICT: { status: 409, title: 'The request conflicts with the current state' },
  BODY_TOO_LARGE: { status: 413, title: 'The body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The content type is not supported' },
  RATE_LIMITED: { status: 429, title: 'Too many requests; slow down' },
  SUBJECT_ERASED: { status: 410, title: 'The data of this person has been erased' },
  INTERNAL: { status: 500, title: 'Something went wrong on our side' },
  UNAVAILABLE: { status: 503, title: 'The service is not available right now' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
