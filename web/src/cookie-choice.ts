// The cookie choice (R-CHO-4, R-TEL-5). Until the visitor chooses, nothing but necessary storage is
// used; the record of the choice itself is necessary (it is how we know not to ask again).
import { api, ApiError } from './api';

export type CookieCategory = 'necessary' | 'preferences' | 'analytics' | 'marketing';
export const COOKIE_CATEGORIES: readonly CookieCategory[] = ['necessary', 'preferences', 'analytics', 'marketing'];

export interface CookieChoice {
  readonly preferences: boolean;
  readonly analytics: boolean;
  readonly marketing: boolean;
}

const CHOICE_KEY = 'pledge.cookie-choice';

/** Global Privacy Control: an opt-out of sale/sharing and marketing the page must honour. */
export function gpcEnabled(): boolean {
  return (navigator as Navigator & { globalPrivacyControl?: boolean }).globalPrivacyControl === true;
}

/** GPC wins over "accept" for marketing: an explicit opt-out signal is not overridden by a blanket click. */
export const honourGpc = (choice: CookieChoice): CookieChoice => (gpcEnabled() ? { ...choice, marketing: false } : choice);

export const ACCEPT_ALL: CookieChoice = { preferences: true, analytics: true, marketing: true };
export const REJECT_ALL: CookieChoice = { preferences: false, analytics: false, marketing: false };

function readLocal(): CookieChoice | null {
  try {
    const raw = localStorage.getItem(CHOICE_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<CookieChoice>;
    return { preferences: parsed.preferences === true, analytics: parsed.analytics === true, marketing: parsed.marketing === true };
  } catch {
    return null;
  }
}

/** The server's answer may carry the categories flat or under `categories`, and says whether a choice exists. */
function fromServer(body: unknown): CookieChoice | null {
  if (!body || typeof body !== 'object') return null;
  const record = body as Record<string, unknown>;
  const cats = (record.categories && typeof record.categories === 'object' ? record.categories : record) as Record<string, unknown>;
  const decided = record.decided ?? record.chosen ?? record.hasChoice ?? (record.updatedAt ?? record.decidedAt) !== undefined;
  if (decided !== true) return null;
  return { preferences: cats.preferences === true, analytics: cats.analytics === true, marketing: cats.marketing === true };
}

/** The visitor's choice: the server's record first, the browser's copy when the server has none. */
export async function loadChoice(): Promise<CookieChoice | null> {
  try {
    return fromServer(await api<unknown>('GET', '/v1/cookie-consent')) ?? readLocal();
  } catch (error) {
    if (error instanceof ApiError) return readLocal();
    throw error;
  }
}

/** Records the choice on the server (it keeps the proof) and in the browser; returns what was stored. */
export async function saveChoice(choice: CookieChoice): Promise<CookieChoice> {
  const stored = honourGpc(choice);
  try {
    await api('PUT', '/v1/cookie-consent', { preferences: stored.preferences, analytics: stored.analytics, marketing: stored.marketing });
  } catch (error) {
    // Not deployed yet: the browser's copy still stops the banner from asking again.
    if (!(error instanceof ApiError && error.notAvailable)) throw error;
  }
  localStorage.setItem(CHOICE_KEY, JSON.stringify(stored));
  if (!stored.preferences) localStorage.removeItem(LANG_KEY);
  return stored;
}

const LANG_KEY = 'pledge.lang';
/** The language is remembered only with consent to preference cookies. */
export const rememberedLang = (): string | null => (readLocal()?.preferences ? localStorage.getItem(LANG_KEY) : null);
export const rememberLang = (lang: string): void => {
  if (readLocal()?.preferences) localStorage.setItem(LANG_KEY, lang);
};
