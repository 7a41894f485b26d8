import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import type { TextKey } from '../i18n';
import { errorText, LoadState, NeedSignIn, NotAvailable, Outcome, Page, useResource, useShell } from '../shell';
import { Field, type InputType } from './auth';

type PartKind = 'contact' | 'device' | 'order_delivery';

/**
 * Sections of GET /v1/me/data whose items can be deleted one by one (R-DSR-2, erase_partial): a shared contact,
 * a device, or an order's delivery address — the last only once the order is delivered (before that the address
 * is still needed to deliver it, and the server refuses), and not again once erased.
 */
const PARTS: Readonly<Record<string, { kind: PartKind; label: TextKey; offered: (item: Record<string, unknown>) => boolean }>> = {
  contacts: { kind: 'contact', label: 'deleteContact', offered: () => true },
  devices: { kind: 'device', label: 'deleteDevice', offered: () => true },
  orders: { kind: 'order_delivery', label: 'deleteDeliveryAddress', offered: (o) => o.deliveryStatus === 'delivered' && o.delivery !== null && o.delivery !== undefined },
};

interface Profile {
  id: string;
  name: string;
  email: string;
  phone: string;
  postalAddress: { line1: string; line2?: string; city: string; postalCode?: string; region?: string; country: string };
  birthDate: string;
  region: string;
  language: string;
  timeZone: string;
  [other: string]: unknown;
}

const EDITABLE: readonly { id: string; key: TextKey; type?: InputType }[] = [
  { id: 'name', key: 'name' },
  { id: 'email', key: 'email', type: 'email' },
  { id: 'phone', key: 'phone', type: 'tel' },
  { id: 'line1', key: 'line1' },
  { id: 'line2', key: 'line2' },
  { id: 'city', key: 'city' },
  { id: 'postalCode', key: 'postalCode' },
  { id: 'country', key: 'country' },
  { id: 'language', key: 'language' },
  { id: 'timeZone', key: 'timeZone' },
];

const ADDRESS = new Set(['line1', 'line2', 'city', 'postalCode', 'country']);

const flatten = (p: Profile): Record<string, string> => ({
  name: p.name,
  email: p.email,
  phone: p.phone,
  line1: p.postalAddress?.line1 ?? '',
  line2: p.postalAddress?.line2 ?? '',
  city: p.postalAddress?.city ?? '',
  postalCode: p.postalAddress?.postalCode ?? '',
  country: p.postalAddress?.country ?? '',
  language: p.language,
  timeZone: p.timeZone,
});

/** R-DSR-1: see every field of the account, and correct it. */
export function MyDataPage() {
  const shell = useShell();
  const { t, signedIn } = shell;
  const [load, reload] = useResource<Profile>(signedIn ? '/v1/me' : null);
  return (
    <Page title={t('myDataTitle')} intro={t('myDataIntro')}>
      {!signedIn ? <NeedSignIn /> : <LoadState load={load}>{() => load.state === 'ok' && <ProfileForm profile={load.data} onSaved={reload} />}</LoadState>}
      {signedIn ? <Everything /> : null}
    </Page>
  );
}

function ProfileForm({ profile, onSaved }: { profile: Profile; onSaved: () => void }) {
  const shell = useShell();
  const { t } = shell;
  const [form, setForm] = useState(flatten(profile));
  const [outcome, setOutcome] = useState<{ message: string; error: boolean } | null>(null);
  useEffect(() => setForm(flatten(profile)), [profile]);
  const submit = async (event: Event) => {
    event.preventDefault();
    const before = flatten(profile);
    const changed = Object.keys(form).filter((k) => form[k] !== before[k]);
    const body: Record<string, unknown> = {};
    for (const k of changed) if (!ADDRESS.has(k)) body[k] = form[k];
    if (changed.some((k) => ADDRESS.has(k))) {
      const opt = (v: string | undefined) => (v?.trim() ? v.trim() : undefined);
      body.postalAddress = { ...profile.postalAddress, line1: form.line1, line2: opt(form.line2), city: form.city, postalCode: opt(form.postalCode), country: (form.country ?? '').toUpperCase() };
    }
    try {
      if (Object.keys(body).length > 0) await shell.withStepUp(() => api('PATCH', '/v1/me', body));
      setOutcome({ message: t('saved'), error: false });
      onSaved();
    } catch (e) {
      setOutcome({ message: errorText(shell, e), error: true });
    }
  };
  const readOnly: [TextKey, unknown][] = [
    ['birthDate', profile.birthDate],
    ['region', profile.region],
  ];
  return (
    <form onSubmit={submit} class="form" data-testid="profile-form">
      {EDITABLE.map((f) => (
        <Field key={f.id} id={`me-${f.id}`} label={t(f.key)} type={f.type ?? 'text'} value={form[f.id] ?? ''} onInput={(v) => setForm((old) => ({ ...old, [f.id]: v }))} />
      ))}
      <dl class="facts">
        {readOnly.map(([key, value]) => (
          <div key={key}>
            <dt>{t(key)}</dt>
            <dd>{typeof value === 'string' && value ? value : t('fieldEmpty')}</dd>
          </div>
        ))}
      </dl>
      <Outcome message={outcome?.message ?? null} error={outcome?.error ?? false} />
      <button type="submit" class="primary">{t('save')}</button>
    </form>
  );
}

/** GET /v1/me/data (every store: orders, devices, consents, holds …), shown as nested lists when it exists. */
function Everything() {
  const { t } = useShell();
  const [load, reload] = useResource<Record<string, unknown>>('/v1/me/data');
  if (load.state === 'unavailable') return <section aria-labelledby="everything"><h2 id="everything">{t('everythingTitle')}</h2><NotAvailable /></section>;
  return (
    <section aria-labelledby="everything">
      <h2 id="everything">{t('everythingTitle')}</h2>
      <LoadState load={load}>
        {() =>
          load.state === 'ok' &&
          Object.entries(load.data).map(([section, value]) => (
            // One collapsible block per store, so the page stays short and each part is easy to find.
            <details key={section} class="card">
              <summary>
                {section}
                {Array.isArray(value) ? ` (${value.length})` : ''}
              </summary>
              {section in PARTS && Array.isArray(value) ? (
                <ol class="tree">
                  {(value as (Record<string, unknown> & { id?: string })[]).map((item, i) => (
                    <li key={item.id ?? i}>
                      <Tree value={item} />
                      {item.id && PARTS[section]!.offered(item) ? <DeletePart target={{ kind: PARTS[section]!.kind, id: item.id }} label={PARTS[section]!.label} onDone={reload} /> : null}
                    </li>
                  ))}
                </ol>
              ) : (
                <Tree value={value} />
              )}
            </details>
          ))
        }
      </LoadState>
    </section>
  );
}

function Tree({ value }: { value: unknown }) {
  if (Array.isArray(value)) return value.length === 0 ? <span>—</span> : <ol class="tree">{value.map((v, i) => <li key={i}><Tree value={v} /></li>)}</ol>;
  if (value && typeof value === 'object')
    return (
      <dl class="tree">
        {Object.entries(value as Record<string, unknown>).map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd><Tree value={v} /></dd>
          </div>
        ))}
      </dl>
    );
  return <span>{value === null || value === undefined ? '—' : String(value)}</span>;
}

/** Delete one part of my data (R-DSR-2): an erase_partial request for this one item, after a step-up. */
function DeletePart({ target, label, onDone }: { target: { kind: PartKind; id: string }; label: TextKey; onDone: () => void }) {
  const shell = useShell();
  const { t } = shell;
  const [outcome, setOutcome] = useState<{ message: string; error: boolean } | null>(null);
  const erase = async () => {
    try {
      const made = await shell.withStepUp(() => api<{ status: string; decline?: { explanation: string } }>('POST', '/v1/me/requests', { type: 'erase_partial', target }));
      // Say what actually happened: a screened-out request is declined with its reason, not "received".
      if (made?.status === 'declined') return setOutcome({ message: made.decline?.explanation ?? t('status_declined'), error: true });
      setOutcome({ message: made?.status === 'completed' ? t('deletePartCompleted') : t('deletePartDone'), error: false });
      onDone();
    } catch (e) {
      setOutcome({ message: errorText(shell, e), error: true });
    }
  };
  return (
    <>
      <button type="button" onClick={erase}>
        {t(label)}
      </button>
      <Outcome message={outcome?.message ?? null} error={outcome?.error ?? false} />
    </>
  );
}
