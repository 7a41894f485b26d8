import { useState } from 'preact/hooks';
import { api, asList, download, session } from '../api';
import { format, textOr, type Lang } from '../i18n';
import { errorText, LoadState, NeedSignIn, Outcome, Page, useResource, useShell, when } from '../shell';

interface DataRequest {
  id: string;
  type: string;
  status: string;
  receivedAt?: string;
  dueAt?: string;
  /** Export files, once built: authenticated same-origin URLs, deleted after expiresAt. */
  export?: { json: string; html: string; expiresAt: string };
  legalHolds?: Hold[];
  notice?: string;
  decline?: { reason: string; explanation: string; complaint: string };
}
interface Hold {
  record: string;
  reason: string;
  until: string;
}

/** R-DSR-1, R-DSR-6, R-DSR-8: export and erase, with the status and due date of every request. */
export function RequestsPage() {
  const shell = useShell();
  const { t, lang, signedIn } = shell;
  const [load, reload] = useResource<unknown>(signedIn ? '/v1/me/requests' : null);
  const [outcome, setOutcome] = useState<{ message: string; error: boolean } | null>(null);
  const [understood, setUnderstood] = useState(false);
  const [holds, setHolds] = useState<Hold[] | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const file = async (type: 'export' | 'erase_account') => {
    try {
      const made = await shell.withStepUp(() => api<DataRequest>('POST', '/v1/me/requests', { type }));
      if (type === 'erase_account') {
        setHolds(made?.legalHolds ?? []);
        setNotice(made?.notice ?? null);
        session.clear();
        shell.setSignedIn(false);
        setOutcome({ message: t('erased'), error: false });
        return;
      }
      setOutcome({ message: t('requestMade'), error: false });
      reload();
    } catch (e) {
      setOutcome({ message: errorText(shell, e), error: true });
    }
  };

  return (
    <Page title={t('requestsTitle')} intro={t('requestsIntro')}>
      <Outcome message={outcome?.message ?? null} error={outcome?.error ?? false} />
      {holds ? <HoldList holds={holds} /> : null}
      {notice ? <p class="notice">{notice}</p> : null}
      {!signedIn ? (
        holds ? null : <NeedSignIn />
      ) : (
        <>
          <section aria-labelledby="export-title" class="card">
            <h2 id="export-title">{t('exportTitle')}</h2>
            <p>{t('exportText')}</p>
            <button type="button" class="primary" onClick={() => file('export')} data-testid="request-export">
              {t('exportButton')}
            </button>
          </section>
          <section aria-labelledby="my-requests" class="card">
            <h2 id="my-requests">{t('myRequests')}</h2>
            <LoadState load={load}>
              {() => {
                if (load.state !== 'ok') return null;
                const list = asList<DataRequest>(load.data, 'requests');
                if (list.length === 0) return <p>{t('noRequests')}</p>;
                return (
                  <div class="table-wrap">
                    <table>
                      <thead>
                        <tr>
                          <th scope="col">{t('requestType')}</th>
                          <th scope="col">{t('requestStatus')}</th>
                          <th scope="col">{t('requestReceived')}</th>
                          <th scope="col">{t('requestDue')}</th>
                          <th scope="col">{t('requestDownload')}</th>
                        </tr>
                      </thead>
                      <tbody>
                        {list.map((r) => (
                          <tr key={r.id} data-request={r.type}>
                            <td>{textOr(lang, `type_${r.type}`, r.type)}</td>
                            <td>
                              {textOr(lang, `status_${r.status}`, r.status)}
                              {r.decline ? <p class="help">{r.decline.explanation} {r.decline.complaint}</p> : null}
                            </td>
                            <td>{when(lang, r.receivedAt)}</td>
                            <td>{when(lang, r.dueAt)}</td>
                            <td>
                              {Object.entries(r.export ? { json: r.export.json, html: r.export.html } : {}).map(([format, url]) => (
                                <button key={format} type="button" class="link" data-testid={`download-${format}`} onClick={() => download(url, `pledge-export-${r.id}.${format}`).catch((e: unknown) => setOutcome({ message: errorText(shell, e), error: true }))}>
                                  {t('requestDownload')} {format.toUpperCase()}
                                </button>
                              ))}
                            </td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                );
              }}
            </LoadState>
          </section>
          <section aria-labelledby="erase-title" class="card danger">
            <h2 id="erase-title">{t('eraseTitle')}</h2>
            <p>{t('eraseConsequences')}</p>
            <ul>
              <li>{t('erase1')}</li>
              <li>{t('erase2')}</li>
              <li>{t('erase3')}</li>
              <li>{t('erase4')}</li>
            </ul>
            <PolicyHolds />
            <p class="checkbox">
              <input type="checkbox" id="erase-understood" checked={understood} onChange={(e) => setUnderstood(e.currentTarget.checked)} />
              <label for="erase-understood">{t('eraseConfirm')}</label>
            </p>
            <button type="button" class="danger" disabled={!understood} onClick={() => file('erase_account')} data-testid="erase-account">
              {t('eraseButton')}
            </button>
          </section>
        </>
      )}
    </Page>
  );
}

/**
 * Before erasure: the records of this person the law makes us keep (today: invoices of orders, for tax
 * law), from GET /v1/me/data — the same list the server will hold back when the account is erased.
 */
function PolicyHolds() {
  const { t, lang } = useShell();
  const [load] = useResource<{ legalHolds?: Hold[] }>('/v1/me/data');
  if (load.state !== 'ok') return null;
  const holds = load.data.legalHolds ?? [];
  return (
    <>
      <h3>{t('holdsTitle')}</h3>
      {holds.length === 0 ? (
        <p data-testid="legal-holds">{t('noHolds')}</p>
      ) : (
        <>
          <p>{t('holdsIntro')}</p>
          <ul data-testid="legal-holds">
            {holds.map((h) => (
              <li key={h.record}>{holdText(lang, h)}</li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}

const holdText = (lang: Lang, h: Hold): string => {
  const [kind, id] = h.record.split(':');
  const record = kind === 'order' ? format(lang, 'holdOrder', { id: (id ?? '').slice(0, 8) }) : h.record;
  return `${record} — ${textOr(lang, `reason_${h.reason}`, h.reason)} — ${format(lang, 'holdUntil', { when: when(lang, h.until) })}`;
};

/** After erasure: the holds the server actually kept for this person, with reason and end date. */
function HoldList({ holds }: { holds: Hold[] }) {
  const { t, lang } = useShell();
  return (
    <section aria-labelledby="holds-kept" class="card">
      <h2 id="holds-kept">{t('holdsTitle')}</h2>
      {holds.length === 0 ? (
        <p>{t('noHolds')}</p>
      ) : (
        <ul>
          {holds.map((h) => (
            <li key={h.record}>{holdText(lang, h)}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
