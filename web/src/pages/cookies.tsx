import { useEffect, useState } from 'preact/hooks';
import { COOKIE_CATEGORIES, gpcEnabled, REJECT_ALL, saveChoice, type CookieCategory, type CookieChoice } from '../cookie-choice';
import type { TextKey } from '../i18n';
import { errorText, Outcome, Page, useShell } from '../shell';

/** R-CHO-4, R-TEL-5: the cookie choice per category, changeable at any time; GPC shown as honoured. */
export function CookiesPage({ choice, onChoice }: { choice: CookieChoice | null; onChoice: (c: CookieChoice) => void }) {
  const shell = useShell();
  const { t } = shell;
  const gpc = gpcEnabled();
  const [draft, setDraft] = useState<CookieChoice>(choice ?? REJECT_ALL);
  const [outcome, setOutcome] = useState<{ message: string; error: boolean } | null>(null);
  useEffect(() => setDraft(choice ?? REJECT_ALL), [choice]);
  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      onChoice(await saveChoice(draft));
      setOutcome({ message: t('choiceSaved'), error: false });
    } catch (e) {
      setOutcome({ message: errorText(shell, e), error: true });
    }
  };
  const checked = (c: CookieCategory): boolean => (c === 'necessary' ? true : draft[c]);
  return (
    <Page title={t('cookiesTitle')} intro={t('cookiesIntro')}>
      <p class={gpc ? 'notice gpc' : 'notice'} data-testid="gpc-status" data-gpc={gpc ? 'honoured' : 'absent'}>
        {gpc ? t('gpcHonoured') : t('gpcAbsent')}
      </p>
      <form onSubmit={submit} class="form">
        <fieldset class="choice-group">
          <legend>{t('currentChoice')}</legend>
          {COOKIE_CATEGORIES.map((c) => {
            const id = `cookie-${c}`;
            // Under GPC, marketing stays off: the browser's opt-out is the person's choice.
            const locked = c === 'necessary' || (c === 'marketing' && gpc);
            return (
              <p key={c} class="checkbox">
                <input
                  type="checkbox"
                  id={id}
                  checked={checked(c) && !(c === 'marketing' && gpc)}
                  disabled={locked}
                  aria-describedby={`${id}-help`}
                  onChange={(e) => c !== 'necessary' && setDraft({ ...draft, [c]: e.currentTarget.checked })}
                />
                <label for={id}>
                  {t(`cookie_${c}` as TextKey)}
                  {c === 'necessary' ? ` (${t('alwaysOn')})` : ''}
                </label>
                <span id={`${id}-help`} class="help">
                  {t(`cookie_${c}_help` as TextKey)}
                  {c === 'marketing' && gpc ? ` ${t('gpcHonoured')}` : ''}
                </span>
              </p>
            );
          })}
        </fieldset>
        <Outcome message={outcome?.message ?? null} error={outcome?.error ?? false} />
        <button type="submit" class="primary">{t('saveChoice')}</button>
      </form>
    </Page>
  );
}
