import { CATEGORY_ZH, GROUPS, PURPOSE_ZH, RECIPIENT_ZH, retentionIn, textOr } from '../i18n';
import { LoadState, Page, useResource, useShell } from '../shell';

interface PolicyView {
  name: string;
  version: string;
  controller: { name: string; contact: string };
  categories: { key: string; description: string; personal: boolean; retention: string; purposes: { name: string; title: string; legalBasis: string; needsConsent: boolean; aggregatesOnly: boolean }[]; recipientTypes: string[] }[];
  recipientTypes: { name: string; description: string }[];
}

const groupOf = (key: string): string => key.split('.')[1] ?? 'other';

/** R-CHO-1: what we collect and why, from GET /v1/policy, grouped by kind of data, in plain words. */
export function PolicyPage() {
  const { t, lang } = useShell();
  const [load] = useResource<PolicyView>('/v1/policy');
  return (
    <Page title={t('policyTitle')}>
      <LoadState load={load}>
        {() => {
          if (load.state !== 'ok') return null;
          const view = load.data;
          const recipients = new Map(view.recipientTypes.map((r) => [r.name, r.description]));
          const groups = new Map<string, PolicyView['categories']>();
          for (const c of view.categories) groups.set(groupOf(c.key), [...(groups.get(groupOf(c.key)) ?? []), c]);
          return (
            <>
              <p class="intro">{t('policyIntro', { name: view.name, version: view.version })}</p>
              <p>{t('policyController', { name: view.controller.name, contact: view.controller.contact })}</p>
              {[...groups].map(([group, categories]) => (
                <section key={group} aria-labelledby={`group-${group}`} class="group">
                  <h2 id={`group-${group}`}>{GROUPS[lang][group] ?? group}</h2>
                  {categories.map((c) => (
                    <article key={c.key} class="card" data-category={c.key} aria-labelledby={`cat-${c.key}`}>
                      <h3 id={`cat-${c.key}`}>{lang === 'zh' ? CATEGORY_ZH[c.key] ?? c.description : c.description}</h3>
                      <p class={c.personal ? 'tag personal' : 'tag'}>{c.personal ? t('personal') : t('nonPersonal')}</p>
                      <dl>
                        <dt>{t('usedFor')}</dt>
                        <dd>
                          {c.purposes.length === 0 ? (
                            t('notUsed')
                          ) : (
                            <ul>
                              {c.purposes.map((p) => (
                                <li key={p.name}>
                                  {lang === 'zh' ? PURPOSE_ZH[p.name] ?? p.title : p.title} — {textOr(lang, `basis_${p.legalBasis}`, p.legalBasis)}
                                  {p.aggregatesOnly ? ` (${t('statsOnly')})` : ''}
                                </li>
                              ))}
                            </ul>
                          )}
                        </dd>
                        <dt>{t('kept')}</dt>
                        <dd>{retentionIn(lang, c.retention)}</dd>
                        <dt>{t('sharedWith')}</dt>
                        <dd>{c.recipientTypes.length === 0 ? t('nobody') : c.recipientTypes.map((r) => (lang === 'zh' ? RECIPIENT_ZH[r] : undefined) ?? recipients.get(r) ?? r).join('; ')}</dd>
                      </dl>
                    </article>
                  ))}
                </section>
              ))}
            </>
          );
        }}
      </LoadState>
    </Page>
  );
}
