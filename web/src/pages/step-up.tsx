import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { useShell } from '../shell';

/** The step-up prompt: a native modal dialog (focus is trapped and Escape cancels, for free). */
export function StepUpDialog({ open, onDone }: { open: boolean; onDone: (ok: boolean) => void }) {
  const { t } = useShell();
  const dialog = useRef<HTMLDialogElement>(null);
  const [password, setPassword] = useState('');
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      await api('POST', '/v1/me/verify', { password });
      setPassword('');
      setFailed(false);
      onDone(true);
    } catch {
      setFailed(true);
    }
  };
  return (
    <dialog ref={dialog} aria-labelledby="step-up-title" onCancel={() => onDone(false)} data-testid="step-up">
      <form onSubmit={submit}>
        <h2 id="step-up-title">{t('stepUpTitle')}</h2>
        <p>{t('stepUpIntro')}</p>
        <label for="step-up-password">{t('password')}</label>
        <input id="step-up-password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        {failed ? <p role="alert" class="error">{t('stepUpFailed')}</p> : null}
        <div class="choices">
          <button type="submit" class="primary">{t('stepUpButton')}</button>
          <button type="button" onClick={() => onDone(false)}>{t('cancel')}</button>
        </div>
      </form>
    </dialog>
  );
}
