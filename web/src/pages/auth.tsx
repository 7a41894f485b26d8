import { useState } from 'preact/hooks';
import { api, session } from '../api';
import type { TextKey } from '../i18n';
import { errorText, Link, Outcome, Page, useShell } from '../shell';

/** A labelled input; every field of every form goes through it, so none lacks a label. */
export type InputType = 'text' | 'email' | 'tel' | 'password' | 'date';

export function Field(props: { id: string; label: string; type?: InputType; value: string; onInput: (v: string) => void; required?: boolean; autoComplete?: string; minLength?: number; pattern?: string; inputMode?: 'email' | 'tel' | 'text' }) {
  const { id, label, onInput, type = 'text', ...rest } = props;
  return (
    <p class="field">
      <label for={id}>{label}</label>
      {/* Preact 11 types each input type separately; all of ours accept the same attributes as text. */}
      <input id={id} name={id} type={type as 'text'} {...rest} onInput={(e) => onInput(e.currentTarget.value)} />
    </p>
  );
}

async function signIn(login: string, password: string): Promise<void> {
  const { token } = await api<{ token: string; expiresAt: string }>('POST', '/v1/sessions', { login, password });
  session.set(token);
}

export function SignInPage() {
  const shell = useShell();
  const { t } = shell;
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      await signIn(login, password);
      shell.setSignedIn(true);
      shell.navigate('/my-data');
    } catch (e) {
      setError(e instanceof Error && 'notAvailable' in e && e.notAvailable ? errorText(shell, e) : t('signInFailed'));
    }
  };
  return (
    <Page title={t('signInTitle')}>
      <form onSubmit={submit} class="form" data-testid="sign-in-form">
        <Field id="login" label={t('login')} value={login} onInput={setLogin} required autoComplete="username" />
        <Field id="password" label={t('password')} type="password" value={password} onInput={setPassword} required autoComplete="current-password" />
        <Outcome message={error} error />
        <button type="submit" class="primary">{t('signInButton')}</button>
      </form>
      <p>
        {t('noAccount')} <Link href="/sign-up">{t('navSignUp')}</Link>
      </p>
    </Page>
  );
}

const SIGN_UP_FIELDS: readonly { id: string; key: TextKey; type?: InputType; autoComplete: string; required: boolean }[] = [
  { id: 'name', key: 'name', autoComplete: 'name', required: true },
  { id: 'email', key: 'email', type: 'email', autoComplete: 'email', required: true },
  { id: 'phone', key: 'phone', type: 'tel', autoComplete: 'tel', required: true },
  { id: 'line1', key: 'line1', autoComplete: 'address-line1', required: true },
  { id: 'line2', key: 'line2', autoComplete: 'address-line2', required: false },
  { id: 'city', key: 'city', autoComplete: 'address-level2', required: true },
  { id: 'postalCode', key: 'postalCode', autoComplete: 'postal-code', required: false },
  { id: 'country', key: 'country', autoComplete: 'country', required: true },
  { id: 'birthDate', key: 'birthDate', type: 'date', autoComplete: 'bday', required: true },
  { id: 'region', key: 'region', autoComplete: 'off', required: true },
  { id: 'language', key: 'language', autoComplete: 'language', required: true },
  { id: 'timeZone', key: 'timeZone', autoComplete: 'off', required: true },
  { id: 'newPassword', key: 'passwordNew', type: 'password', autoComplete: 'new-password', required: true },
];

export function SignUpPage() {
  const shell = useShell();
  const { t, lang } = shell;
  const [form, setForm] = useState<Record<string, string>>({
    language: lang === 'zh' ? 'zh-CN' : 'en',
    timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
  });
  const [error, setError] = useState<string | null>(null);
  const value = (id: string): string => form[id] ?? '';
  const submit = async (event: Event) => {
    event.preventDefault();
    const optional = (v: string) => (v.trim() ? v.trim() : undefined);
    const body = {
      name: value('name'),
      email: value('email'),
      phone: value('phone'),
      postalAddress: { line1: value('line1'), line2: optional(value('line2')), city: value('city'), postalCode: optional(value('postalCode')), country: value('country').toUpperCase() },
      birthDate: value('birthDate'),
      region: value('region').toUpperCase(),
      language: value('language'),
      timeZone: value('timeZone'),
      password: value('newPassword'),
    };
    try {
      await api('POST', '/v1/accounts', body);
      await signIn(body.email, body.password);
      shell.setSignedIn(true);
      shell.navigate('/my-data');
    } catch (e) {
      setError(errorText(shell, e));
    }
  };
  return (
    <Page title={t('signUpTitle')} intro={t('signUpIntro')}>
      <form onSubmit={submit} class="form" data-testid="sign-up-form">
        {SIGN_UP_FIELDS.map((f) => (
          <Field
            key={f.id}
            id={f.id}
            label={t(f.key)}
            type={f.type ?? 'text'}
            value={value(f.id)}
            onInput={(v) => setForm((old) => ({ ...old, [f.id]: v }))}
            required={f.required}
            autoComplete={f.autoComplete}
            {...(f.id === 'newPassword' ? { minLength: 10 } : {})}
          />
        ))}
        <Outcome message={error} error />
        <button type="submit" class="primary">{t('signUpButton')}</button>
      </form>
      <p>
        {t('haveAccount')} <Link href="/sign-in">{t('navSignIn')}</Link>
      </p>
    </Page>
  );
}
