import type { CompiledPolicy } from './policy.js';

/** R-CHO-1: "what we collect and why", generated from the policy file alone. */
export interface PolicyView {
  name: string;
  version: string;
  hash: string;
  controller: { name: string; contact: string; policyUrl: string };
  categories: {
    key: string;
    description: string;
    personal: boolean;
    retention: string;
    purposes: { name: string; title: string; legalBasis: string; needsConsent: boolean; aggregatesOnly: boolean }[];
    recipientTypes: string[];
  }[];
  purposes: { name: string; title: string; dataUse: string; legalBasis: string; needsConsent: boolean; categories: string[] }[];
  recipientTypes: { name: string; description: string }[];
}

export function buildPolicyView(policy: CompiledPolicy): PolicyView {
  const purposes = [...policy.purposes.values()];
  return {
    name: policy.name,
    version: policy.version,
    hash: policy.hash,
    controller: { name: policy.controller.name, contact: policy.controller.contact, policyUrl: policy.controller.policyUrl },
    categories: [...policy.categories.values()].map((c) => {
      const using = purposes.filter((p) => p.categories.has(c.key));
      return {
        key: c.key,
        description: c.description,
        personal: c.personal,
        retention: c.retentionText,
        purposes: using.map((p) => ({ name: p.name, title: p.title, legalBasis: p.legalBasis, needsConsent: p.needsConsent, aggregatesOnly: p.aggregatesOnly })),
        recipientTypes: [...new Set(using.flatMap((p) => p.recipientTypes))],
      };
    }),
    purposes: purposes.map((p) => ({ name: p.name, title: p.title, dataUse: p.dataUse, legalBasis: p.legalBasis, needsConsent: p.needsConsent, categories: [...p.categories] })),
    recipientTypes: [...policy.recipientTypes].map(([name, description]) => ({ name, description })),
  };
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const BASIS_WORDS: Record<string, string> = {
  contract: 'needed to provide what you asked for',
  legal_obligation: 'required by law',
  legitimate_interest: 'our legitimate interest',
  consent: 'only with your consent',
};

export function renderPolicyHtml(view: PolicyView): string {
  const rows = view.categories
    .map(
      (c) => `<tr><th scope="row">${escapeHtml(c.description)}<br><code>${escapeHtml(c.key)}</code></th>
<td>${c.personal ? 'Personal' : 'Non-personal'}</td>
<td><ul>${c.purposes.map((p) => `<li>${escapeHtml(p.title)} — ${escapeHtml(BASIS_WORDS[p.legalBasis] ?? p.legalBasis)}${p.aggregatesOnly ? ' (statistics only)' : ''}</li>`).join('')}</ul></td>
<td>${escapeHtml(c.retention)}</td>
<td>${c.recipientTypes.map(escapeHtml).join(', ') || 'nobody'}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>What we collect and why — ${escapeHtml(view.name)}</title>
<style>body{font-family:system-ui,sans-serif;margin:1rem;max-width:70rem}table{border-collapse:collapse;width:100%}th,td{border:1px solid #888;padding:.4rem;vertical-align:top;text-align:left}code{font-size:.8em;color:#333}</style></head>
<body><main><h1>What we collect and why</h1>
<p>${escapeHtml(view.name)}, version ${escapeHtml(view.version)}. Controller: ${escapeHtml(view.controller.name)} (${escapeHtml(view.controller.contact)}).</p>
<table><caption>Every category of data, who may use it, on what basis, for how long and who may receive it</caption>
<thead><tr><th scope="col">Data</th><th scope="col">Kind</th><th scope="col">Used for</th><th scope="col">Kept</th><th scope="col">May be shared with</th></tr></thead>
<tbody>${rows}</tbody></table></main></body></html>`;
}
