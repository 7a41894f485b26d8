import { ERROR_CODES, type ErrorCode } from './codes.js';

/**
 * The one error type of Pledge. `message` is shown to people and must never hold personal data;
 * `details` is structured (field paths, limits), also free of personal values.
 */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: Readonly<Record<string, unknown>>,
    options?: { cause?: unknown },
  ) {
    super(message ?? ERROR_CODES[code].title, options);
    this.name = 'AppError';
    this.status = ERROR_CODES[code].status;
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

export const errors = {
  validation: (message: string, details?: Record<string, unknown>) => new AppError('VALIDATION_FAILED', message, details),
  notFound: (what: string) => new AppError('NOT_FOUND', `${what} was not found`),
  forbidden: (message = 'You may not do this') => new AppError('FORBIDDEN', message),
  unauthenticated: (message = 'Sign in first') => new AppError('UNAUTHENTICATED', message),
  conflict: (message: string) => new AppError('CONFLICT', message),
  undeclaredField: (field: string) => new AppError('UNDECLARED_FIELD', `The field ${field} is not declared in the policy, so it cannot be stored`, { field }),
};
