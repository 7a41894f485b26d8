import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, onSignedOut, session } from './api';
import { loadChoice, rememberedLang, rememberLang, type CookieChoice } from './cookie-choice';
import { format, HTML_LANG, type Lang, type TextKey } from './i18n';
import { Link, ShellContext, type Shell } from './shell';
import { CookieBanner } from './pages/cookie-banner';
import { StepUpDialog } from './pages/step-up';
import { PolicyPage } from './pages/policy';
import { SignInPage, SignUpPage } from './pages/auth';
import { MyDataPage } from './pages/my-data';
import { DevicesPage } from './pages/devices';
import { ConsentsPage } from './pages/consents';
import { CookiesPage } from './pages/cookies';
import { RequestsPage } from './pages/requests';

const NAV: readonly { path: string; key: TextKey; private: boolean }[] = [
  { path: '/', key: 'navPolicy', private: false },
  { path: '/my-data', key: 'navMyData', private: true },
  { path: '/devices', key: 'navDevices', private: true },
  { path: '/consents', key: 'navConsents', private: true },
  { path: '/cookies', key: 'navCookies', private: false },
  { path: '/requests', key: 'navRequests', private: true },
];

function initialLang(): Lang {
  const remembered = rememberedLang();
  if (remembered === 'en' || remembered === 'zh') return remembered;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

export function App() {
  const [lang, setLang] = useState<Lang>(initialLang);
  const [path, setPath] = useState(location.pathname);
  const [signedIn, setSignedIn] = useState(session.token() !== null);
  const [choice, setChoice] = useState<CookieChoice | null | undefined>(undefined);
  const stepUp = useRef<((ok: boolean) => void) | null>(null);
  const [stepUpOpen, setStepUpOpen] = useState(false);

  useEffect(() => {
    document.documentElement.lang = HTML_LANG[lang];
  }, [lang]);
  // Remembered only once preference cookies are accepted, and then at once (rememberLang checks the choice): a layout
  // effect runs in the same commit that closes the banner, so a page left right after accepting still remembers it.
  useLayoutEffect(() => {
    if (choice) rememberLang(lang);
  }, [lang, choice]);
  useEffect(() => onSignedOut(() => setSignedIn(false)), []);
  useEffect(() => {
    const onPop = () => setPath(location.pathname);
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  useEffect(() => {
    loadChoice().then(setChoice, () => setChoice(null));
  }, []);
  // Tells tests (and tools) whether the banner question is settled: pending, asked, or answered.
  useEffect(() => {
    document.body.dataset.cookieChoice = choice === undefined ? 'pending' : choice === null ? 'asked' : 'answered';
  }, [choice]);

  const navigate = useCallback((to: string) => {
    history.pushState(null, '', to);
    setPath(to);
    scrollTo(0, 0);
    // Move focus to the new page's heading once it has rendered (WCAG 2.4.3 focus order).
    requestAnimationFrame(() => document.getElementById('page-title')?.focus());
  }, []);

  const withStepUp = useCallback(async <T,>(action: () => Promise<T>): Promise<T> => {
    try {
      return await action();
    } catch (error) {
      if (!(error instanceof ApiError && error.needsStepUp)) throw error;
      const confirmed = await new Promise<boolean>((resolve) => {
        stepUp.current = resolve;
        setStepUpOpen(true);
      });
      if (!confirmed) throw error;
      return action();
    }
  }, []);

  const shell: Shell = useMemo(
    () => ({ lang, t: (key, vars) => format(lang, key, vars), signedIn, setSignedIn, navigate, withStepUp }),
    [lang, signedIn, navigate, withStepUp],
  );
  const t = shell.t;

  const signOut = async () => {
    await api('DELETE', '/v1/sessions/current').catch(() => undefined);
    session.clear();
    setSignedIn(false);
    navigate('/');
  };

  return (
    <ShellContext.Provider value={shell}>
      <a class="skip" href="#main">
        {t('skip')}
      </a>
      {choice === null ? <CookieBanner onChosen={setChoice} /> : null}
      <header class="top">
        <p class="brand">
          <Link href="/">Pledge · {t('appName')}</Link>
        </p>
        <div class="tools">
          <button type="button" class="link" aria-label={`${t('langSwitch')}: ${t('langSwitchLabel')}`} onClick={() => setLang(lang === 'en' ? 'zh' : 'en')}>
            <span lang={lang === 'en' ? 'zh-Hans' : 'en'}>{t('langSwitch')}</span>
          </button>
          {signedIn ? (
            <button type="button" class="link" onClick={signOut}>
              {t('signOut')}
            </button>
          ) : (
            <>
              <Link href="/sign-in">{t('navSignIn')}</Link>
              <Link href="/sign-up">{t('navSignUp')}</Link>
            </>
          )}
        </div>
        <nav aria-label={t('navLabel')}>
          <ul>
            {NAV.map((item) => (
              <li key={item.path}>
                <Link href={item.path} {...(path === item.path ? { 'aria-current': 'page' as const } : {})}>
                  {t(item.key)}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Route path={path} choice={choice ?? null} onChoice={setChoice} />
      </main>
      <footer>
        <p>{t('footer')}</p>
      </footer>
      <StepUpDialog
        open={stepUpOpen}
        onDone={(ok) => {
          setStepUpOpen(false);
          stepUp.current?.(ok);
          stepUp.current = null;
        }}
      />
    </ShellContext.Provider>
  );
}

function Route({ path, choice, onChoice }: { path: string; choice: CookieChoice | null; onChoice: (c: CookieChoice) => void }) {
  switch (path) {
    case '/sign-in':
      return <SignInPage />;
    case '/sign-up':
      return <SignUpPage />;
    case '/my-data':
      return <MyDataPage />;
    case '/devices':
      return <DevicesPage />;
    case '/consents':
      return <ConsentsPage />;
    case '/cookies':
      return <CookiesPage choice={choice} onChoice={onChoice} />;
    case '/requests':
      return <RequestsPage />;
    default:
      return <PolicyPage />;
  }
}
