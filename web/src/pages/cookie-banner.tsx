import { useState } from 'preact/hooks';
import { ACCEPT_ALL, gpcEnabled, REJECT_ALL, saveChoice, type CookieChoice } from '../cookie-choice';
import { errorText, Link, useShell } from '../shell';

/**
 * First-visit banner (R-CHO-4). "Reject all" and "Accept all" are the same kind of button, side by
 * side, same size: refusing must be as easy as accepting. It is not a modal, so the page stays usable.
 */
export function CookieBanner({ onChosen }: { onChosen: (choice: CookieChoice) => void }) {
  const shell = useShell();
  const { t } = shell;
  const [error, setError] = useState<string | null>(null);
  const choose = (choice: CookieChoice) => saveChoice(choice).then(onChosen, (e: unknown) => setError(errorText(shell, e)));
  return (
    <section class="banner" aria-labelledby="banner-title" data-testid="cookie-banner">
      <h2 id="banner-title">{t('bannerTitle')}</h2>
      <p>{t('bannerText')}</p>
      {gpcEnabled() ? <p class="gpc" data-testid="gpc-banner">{t('gpcHonoured')}</p> : null}
      <div class="choices">
        <button type="button" class="primary" data-testid="reject-all" onClick={() => choose(REJECT_ALL)}>
          {t('rejectAll')}
        </button>
        <button type="button" class="primary" data-testid="accept-all" onClick={() => choose(ACCEPT_ALL)}>
          {t('acceptAll')}
        </button>
      </div>
      <p>
        <Link href="/cookies">{t('customise')}</Link>
      </p>
      {error ? <p role="alert" class="error">{error}</p> : null}
    </section>
  );
}
