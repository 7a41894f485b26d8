import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useState } from 'preact/hooks';
import { api, ApiError } from './api';
import type { Lang, TextKey } from './i18n';

/** What every page needs from the shell: the language, navigation, the session and the step-up prompt. */
export interface Shell {
  readonly lang: Lang;
  readonly t: (key: TextKey, vars?: Record<string, string>) => string;
  readonly signedIn: boolean;
  readonly setSignedIn: (value: boolean) => void;
  readonly navigate: (path: string) => void;
  /** Runs an API action; when the server asks for a fresh password check, prompts for it and retries once. */
  readonly withStepUp: <T>(action: () => Promise<T>) => Promise<T>;
}

export const ShellContext = createContext<Shell | null>(null);

export function useShell(): Shell {
  const shell = useContext(ShellContext);
  if (!shell) throw new Error('useShell outside the shell');
  return shell;
}

export type Load<T> =
  | { readonly state: 'loading' }
  | { readonly state: 'ok'; readonly data: T }
  | { readonly state: 'unavailable' }
  | { readonly state: 'signed-out' }
  | { readonly state: 'error'; readonly detail: string };

/** GETs a resource and reports what happened, including "this API does not exist yet". */
export function useResource<T>(path: string | null): [Load<T>, () => void] {
  const [load, setLoad] = useState<Load<T>>({ state: 'loading' });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    api<T>('GET', path).then(
      (data) => live && setLoad({ state: 'ok', data }),
      (error: unknown) => live && setLoad(toLoad(error)),
    );
    return () => {
      live = false;
    };
  }, [path, tick]);
  return [load, useCallback(() => setTick((n) => n + 1), [])];
}

export function toLoad(error: unknown): Load<never> {
  if (error instanceof ApiError && error.notAvailable) return { state: 'unavailable' };
  if (error instanceof ApiError && error.unauthenticated) return { state: 'signed-out' };
  return { state: 'error', detail: error instanceof Error ? error.message : String(error) };
}

/** Renders the non-ok states of a Load in one consistent way. */
export function LoadState({ load, children }: { load: Load<unknown>; children: () => ComponentChildren }) {
  const { t } = useShell();
  switch (load.state) {
    case 'loading':
      return <p role="status">{t('loading')}</p>;
    case 'unavailable':
      return <NotAvailable />;
    case 'signed-out':
      return <NeedSignIn />;
    case 'error':
      return <p role="alert" class="error">{t('errorGeneric', { detail: load.detail })}</p>;
    case 'ok':
      return <>{children()}</>;
  }
}

export function NotAvailable() {
  const { t } = useShell();
  return <p class="notice" data-testid="not-available">{t('notAvailable')}</p>;
}

export function NeedSignIn() {
  const { t } = useShell();
  return (
    <p class="notice">
      {t('needSignIn')} <Link href="/sign-in">{t('navSignIn')}</Link>
    </p>
  );
}

export function Link({ href, children, ...rest }: { href: string; children: ComponentChildren; class?: string; 'aria-current'?: 'page' }) {
  const { navigate } = useShell();
  const onClick = (event: MouseEvent) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}

/** A page: one h1 that receives focus on navigation, so screen-reader users hear where they are. */
export function Page({ title, intro, children }: { title: string; intro?: string; children: ComponentChildren }) {
  useEffect(() => {
    document.title = title;
  }, [title]);
  return (
    <>
      <h1 tabIndex={-1} id="page-title">
        {title}
      </h1>
      {intro ? <p class="intro">{intro}</p> : null}
      {children}
    </>
  );
}

/** A message for the outcome of an action, announced politely. */
export function Outcome({ message, error }: { message: string | null; error?: boolean }) {
  return (
    <p role={error ? 'alert' : 'status'} class={error ? 'error' : 'ok'} hidden={!message}>
      {message ?? ''}
    </p>
  );
}

export const errorText = (shell: Shell, error: unknown): string =>
  error instanceof ApiError && error.notAvailable ? shell.t('notAvailable') : shell.t('errorGeneric', { detail: error instanceof Error ? error.message : String(error) });

/** Dates as the reader's locale writes them. */
export const when = (lang: Lang, iso: unknown): string => {
  if (typeof iso !== 'string' || !iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' });
};
