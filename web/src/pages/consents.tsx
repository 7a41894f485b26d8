import { useState } from 'preact/hooks';
import { api, ApiError, asList, download } from '../api';
import { PURPOSE_ZH, textOr } from '../i18n';
import { errorText, LoadState, NeedSignIn, Outcome, Page, useResource, useShell, when } from '../shell';

interface Consent {
  purpose: string;
  title?: string;
  granted?: boolean;
  status?: string;
  receiptId?: string | null;
  updatedAt?: string | null;
  at?: string | null;
}

const isGranted = (c: Consent): boolean => c.granted ?? c.status === 'given';

/** R-CHO-2, R-CHO-3: one switch per opt-in purpose; each change returns a signed receipt to download. */
export function ConsentsPage() {
  const { t, signedIn } = useShell();
  const [load, reload] = useResource<unknown>(signedIn ? '/v1/me/consents' : null);
  return (
    <Page title={t('consentsTitle')} intro={t('consentsIntro')}>
      {!signedIn ? (
        <NeedSignIn />
      ) : (
        <LoadState load={load}>
          {() =>
            load.state === 'ok' && (
              <ul class="plain">
                {asList<Consent>(load.data, 'consents', 'purposes').map((c) => (
                  <ConsentSwitch key={c.purpose} consent={c} onChanged={reload} />
                ))}
              </ul>
            )
          }
        </LoadState>
      )}
    </Page>
  );
}

function ConsentSwitch({ consent, onChanged }: { consent: Consent; onChanged: () => void }) {
  const shell = useShell();
  const { t, lang } = shell;
  const [granted, setGranted] = useState(isGranted(consent));
  const [receiptId, setReceiptId] = useState<string | null>(consent.receiptId ?? null);
  const [outcome, setOutcome] = useState<{ message: string; error: boolean } | null>(null);
  const id = `consent-${consent.purpose}`;
  const label = textOr(lang, `purpose_${consent.purpose}`, (lang === 'zh' ? PURPOSE_ZH[consent.purpose] : undefined) ?? consent.title ?? consent.purpose);
  const [confirmGpc, setConfirmGpc] = useState(false);
  const toggle = async (confirmOverrideGpc = false) => {
    const next = !granted;
    try {
      const answer = await api<{ consent?: Consent; receiptId?: string }>('PUT', `/v1/me/consents/${encodeURIComponent(consent.purpose)}`, {
        granted: next,
        ...(confirmOverrideGpc ? { confirmOverrideGpc: true } : {}),
      });
      setGranted(answer?.consent ? isGranted(answer.consent) : next);
      if (answer?.receiptId) setReceiptId(answer.receiptId);
      setConfirmGpc(false);
      setOutcome({ message: t('saved'), error: false });
      onChanged();
    } catch (e) {
      // The browser sends GPC: opting in anyway needs an explicit second step (never a single click).
      if (e instanceof ApiError && e.code === 'GPC_CONFIRMATION_REQUIRED') return setConfirmGpc(true);
      setOutcome({ message: errorText(shell, e), error: true });
    }
  };
  const fetchReceipt = () =>
    receiptId && download(`/v1/me/consents/receipts/${encodeURIComponent(receiptId)}`, `consent-receipt-${receiptId}.json`).catch((e: unknown) => setOutcome({ message: errorText(shell, e), error: true }));
  const changedAt = consent.updatedAt ?? consent.at;
  return (
    <li class="card consent" data-purpose={consent.purpose}>
      <p class="switch-row">
        <button type="button" role="switch" id={id} aria-checked={granted} aria-labelledby={`${id}-label`} onClick={() => toggle()} class="switch">
          <span class="knob" aria-hidden="true" />
          <span class="state">{granted ? t('consentOn') : t('consentOff')}</span>
        </button>
        <label for={id} id={`${id}-label`}>
          {label}
        </label>
      </p>
      {changedAt ? <p class="help">{t('lastChanged', { when: when(lang, changedAt) })}</p> : null}
      {receiptId ? (
        <button type="button" class="link" onClick={fetchReceipt}>
          {t('receipt')}
        </button>
      ) : null}
      {confirmGpc ? (
        <p role="alert" class="notice gpc">
          {t('gpcConfirm')}{' '}
          <button type="button" onClick={() => toggle(true)}>
            {t('gpcConfirmButton')}
          </button>
        </p>
      ) : null}
      <Outcome message={outcome?.message ?? null} error={outcome?.error ?? false} />
    </li>
  );
}
