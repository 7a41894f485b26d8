import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { errorText, useShell } from '../shell';

/**
 * The step-up prompt (R-DSR-3): the password again, or a one-time code e-mailed to the account. A native
 * modal dialog, so focus is trapped inside and Escape cancels without any script of ours.
 */
export function StepUpDialog({ open, onDone }: { open: boolean; onDone: (ok: boolean) => void }) {
  const shell = useShell();
  const { t } = shell;
  const dialog = useRef<HTMLDialogElement>(null);
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [byCode, setByCode] = useState(false);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  const finish = (ok: boolean) => {
    setPassword('');
    setCode('');
    setByCode(false);
    setMessage(null);
    onDone(ok);
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      await api('POST', '/v1/me/verify', byCode ? { code } : { password });
      finish(true);
    } catch {
      setMessage({ text: t('stepUpFailed'), error: true });
    }
  };
  const sendCode = async () => {
    try {
      await api('POST', '/v1/me/verify/code');
      setByCode(true);
      setMessage({ text: t('stepUpCodeSent'), error: false });
    } catch (e) {
      setMessage({ text: errorText(shell, e), error: true });
    }
  };
  return (
    <dialog ref={dialog} aria-labelledby="step-up-title" onCancel={() => finish(false)} data-testid="step-up">
      <form onSubmit={submit}>
        <h2 id="step-up-title">{t('stepUpTitle')}</h2>
        <p>{t('stepUpIntro')}</p>
        {byCode ? (
          <p class="field">
            <label for="step-up-code">{t('stepUpCode')}</label>
            <input id="step-up-code" type="text" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" required value={code} onInput={(e) => setCode(e.currentTarget.value)} />
          </p>
        ) : (
          <p class="field">
            <label for="step-up-password">{t('password')}</label>
            <input id="step-up-password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
          </p>
        )}
        {message ? (
          <p role={message.error ? 'alert' : 'status'} class={message.error ? 'error' : 'ok'}>
            {message.text}
          </p>
        ) : null}
        <div class="choices">
          <button type="submit" class="primary">
            {t('stepUpButton')}
          </button>
          <button type="button" onClick={() => finish(false)}>
            {t('cancel')}
          </button>
        </div>
        {byCode ? null : (
          <button type="button" class="link" onClick={sendCode}>
            {t('stepUpSendCode')}
          </button>
        )}
      </form>
    </dialog>
  );
}
