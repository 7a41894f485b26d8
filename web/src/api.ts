// The one way the page talks to the server: same origin only, problem+json errors turned into ApiError,
// the session token in sessionStorage (gone when the tab closes; never in a cookie the page sets).

const TOKEN_KEY = 'pledge.token';

export interface Problem {
  readonly status: number;
  readonly code: string;
  readonly title?: string;
  readonly detail?: string;
  readonly [extra: string]: unknown;
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title ?? problem.code);
  }
  get code(): string {
    return this.problem.code;
  }
  get status(): number {
    return this.problem.status;
  }
  /** The API this page was built against is not deployed yet. */
  get notAvailable(): boolean {
    return this.problem.code === 'ROUTE_NOT_FOUND' || this.problem.code === 'METHOD_NOT_ALLOWED';
  }
  get unauthenticated(): boolean {
    return this.problem.status === 401;
  }
  /** The server wants a fresh password check (step-up) before doing this. */
  get needsStepUp(): boolean {
    return this.problem.code === 'STEP_UP_REQUIRED' || this.problem.code === 'VERIFICATION_REQUIRED';
  }
}

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

const listeners = new Set<() => void>();
/** Called when the server says the session is gone, so the shell can show "signed out". */
export const onSignedOut = (fn: () => void): (() => void) => {
  listeners.add(fn);
  return () => listeners.delete(fn);
};

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = session.token();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  if (response.ok) return response;
  let problem: Problem;
  try {
    problem = (await response.json()) as Problem;
  } catch {
    problem = { status: response.status, code: response.status === 404 ? 'ROUTE_NOT_FOUND' : 'HTTP_' + response.status };
  }
  const error = new ApiError({ ...problem, status: response.status, code: String(problem.code ?? 'HTTP_' + response.status) });
  if (error.unauthenticated && token) {
    session.clear();
    listeners.forEach((fn) => fn());
  }
  throw error;
}

/** A JSON call; an empty answer (204) is undefined. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await send(method, path, body);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Downloads an authenticated resource as a file (a plain link could not carry the bearer token). */
export async function download(path: string, filename: string): Promise<void> {
  const response = await send('GET', path);
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Lists come back either bare or wrapped ({ items }, { devices } …): accept both. */
export function asList<T>(value: unknown, ...keys: string[]): T[] {
  if (Array.isArray(value)) return value as T[];
  if (value && typeof value === 'object') {
    for (const key of [...keys, 'items', 'data']) {
      const inner = (value as Record<string, unknown>)[key];
      if (Array.isArray(inner)) return inner as T[];
    }
  }
  return [];
}
