import type { Kysely } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { AppError } from '../../internal/errors/app-error.js';
import type { CompiledPolicy } from '../policy/policy.js';
import type { ConsentLedger } from './consent.service.js';
import type { DecisionEngine } from './decision.engine.js';
import { GPC_OVERRIDE_METHOD, type ConsentChange, type ConsentStatus } from './consent.js';
import { consentMode, tcfPurposes, type ConsentModeState, type CookieChoices, type TcfEncoder } from './web-signals.js';
import { formatCookie, parseCookie, type VisitorCookie } from './cookie-value.js';

type Category = 'preferences' | 'analytics' | 'marketing';
const CATEGORIES: readonly Category[] = ['preferences', 'analytics', 'marketing'];

export interface WebConsentRequest {
  /** The signed-in subject, if any. */
  readonly subjectId?: string | undefined;
  /** The visitor cookie, already verified (signature checked by the caller). */
  readonly cookie?: string | undefined;
  /** True when the request carried `Sec-GPC: 1`. */
  readonly gpc: boolean;
}

export interface WebConsentView {
  readonly categories: CookieChoices;
  readonly gpc: boolean;
  readonly consentMode: ConsentModeState;
  readonly tcString: string;
  /** The visitor cookie value to store (unsigned; the caller signs it); '' = clear it (merged into the ledger). */
  readonly cookie: string;
  readonly receiptId: string | null;
}

export interface WebConsentUpdate extends WebConsentRequest {
  readonly choices: Partial<Record<Category, boolean>>;
  readonly confirmOverrideGpc: boolean;
}

/**
 * Web consent signals (R-TEL-5, R-CHO-4): cookie categories in a signed cookie for visitors and in the ledger
 * for signed-in users, Global Privacy Control, Consent Mode v2 and a TCF v2.2 string derived from the same state.
 */
export class CookieConsentService {
  constructor(
    private readonly policy: CompiledPolicy,
    private readonly ledger: ConsentLedger,
    private readonly engine: DecisionEngine,
    private readonly tcf: TcfEncoder,
  ) {}

  /**
   * The state for the banner. A signed-in person who still carries a visitor cookie with choices gets those
   * choices merged into the ledger (the first banner call after sign-in), and the cookie is then cleared.
   */
  async state(db: Kysely<Database>, ctx: ActorContext, req: WebConsentRequest): Promise<WebConsentView> {
    let receiptId: string | null = null;
    const merging = req.subjectId !== undefined && parseCookie(req.cookie).at > 0;
    if (merging) receiptId = await this.mergeAtSignIn(db, ctx, req.subjectId as string, req.cookie, req.gpc);
    if (req.gpc && req.subjectId) receiptId = (await this.applyGpc(db, ctx, req.subjectId)) ?? receiptId;
    const view = await this.view(req, parseCookie(req.cookie), receiptId);
    return merging ? { ...view, cookie: '' } : view;
  }

  async update(db: Kysely<Database>, ctx: ActorContext, req: WebConsentUpdate): Promise<WebConsentView> {
    const before = parseCookie(req.cookie);
    const overriding = req.gpc && req.choices.marketing === true;
    if (overriding && !req.confirmOverrideGpc) throw new AppError('GPC_CONFIRMATION_REQUIRED', undefined, { category: 'marketing' });
    const cookie: VisitorCookie = {
      preferences: req.choices.preferences ?? before.preferences,
      analytics: req.choices.analytics ?? before.analytics,
      marketing: req.choices.marketing ?? before.marketing,
      gpcOverride: req.choices.marketing === undefined ? before.gpcOverride : overriding,
      at: Math.floor(Date.now() / 1000),
    };
    let receiptId: string | null = null;
    if (req.subjectId) {
      const changes: ConsentChange[] = [];
      const state = await this.engine.stateOf(req.subjectId);
      for (const cat of CATEGORIES) {
        const on = req.choices[cat];
        if (on === undefined) continue;
        const rule = this.engine.rules.byName.get(this.policy.cookies[cat]);
        const current = rule ? state.consents[rule.index]?.status : undefined;
        changes.push({ purpose: this.policy.cookies[cat], status: on ? 'given' : current === 'given' ? 'withdrawn' : 'refused' });
      }
      if (changes.length > 0) {
        const method = overriding ? GPC_OVERRIDE_METHOD : 'cookie_banner';
        receiptId = (await this.ledger.change(db, ctx, { subjectId: req.subjectId, changes, source: 'web', collectionMethod: method })).receiptId;
      }
    }
    const view = await this.view({ ...req, gpc: req.gpc && !overriding }, cookie, receiptId);
    // Signed in, the ledger is the record: no visitor cookie is kept beside it.
    return req.subjectId ? { ...view, cookie: '' } : view;
  }

  /**
   * GPC for a signed-in subject: refuses (or withdraws) every purpose the policy marks gpcOptOut, source `gpc`,
   * unless the subject later opted in with the confirmation step. Cheap when nothing changes (cached state).
   */
  async applyGpc(db: Kysely<Database>, ctx: ActorContext, subjectId: string): Promise<string | null> {
    const state = await this.engine.stateOf(subjectId);
    const changes: ConsentChange[] = [];
    for (const rule of this.engine.rules.list) {
      if (!rule.gpcOptOut || !rule.needsConsent) continue;
      const slot = state.consents[rule.index];
      if (slot?.gpcOverride && slot.status === 'given') continue;
      if (slot && slot.status !== 'given') continue;
      changes.push({ purpose: rule.name, status: slot ? 'withdrawn' : 'refused' });
    }
    if (changes.length === 0) return null;
    return (await this.ledger.change(db, ctx, { subjectId, changes, source: 'gpc', collectionMethod: 'gpc_header' })).receiptId;
  }

  /**
   * At sign-in: the visitor's banner choices become the subject's ledger entries. For the accounts module. Only a
   * choice made after the ledger's last word on that purpose counts (a banner click in one browser must not undo a
   * later withdrawal made elsewhere), and under Global Privacy Control a banner "on" does not give a purpose the
   * policy lets GPC opt out of, unless the visitor confirmed the override.
   */
  async mergeAtSignIn(db: Kysely<Database>, ctx: ActorContext, subjectId: string, verifiedCookie: string | undefined, gpc = false): Promise<string | null> {
    if (!verifiedCookie) return null;
    const c = parseCookie(verifiedCookie);
    if (c.at === 0) return null;
    const chosenAt = c.at * 1000;
    const ledger = new Map((await this.ledger.list(db, subjectId)).map((s) => [s.purpose, s]));
    const changes: ConsentChange[] = [];
    for (const cat of CATEGORIES) {
      const purpose = this.policy.cookies[cat];
      const recorded = ledger.get(purpose);
      if (recorded?.at && Date.parse(recorded.at) >= chosenAt) continue;
      const current: ConsentStatus | undefined = recorded && recorded.status !== 'not_asked' ? recorded.status : undefined;
      const rule = this.engine.rules.byName.get(purpose);
      const wanted = c[cat] && !(gpc && rule?.gpcOptOut && !c.gpcOverride);
      if (wanted === (current === 'given')) continue;
      changes.push({ purpose, status: wanted ? 'given' : current === 'given' ? 'withdrawn' : 'refused' });
    }
    if (changes.length === 0) return null;
    const method = c.gpcOverride ? GPC_OVERRIDE_METHOD : 'cookie_banner_merged_at_sign_in';
    return (await this.ledger.change(db, ctx, { subjectId, changes, source: 'web', collectionMethod: method })).receiptId;
  }

  private async view(req: WebConsentRequest, cookie: VisitorCookie, receiptId: string | null): Promise<WebConsentView> {
    let choices: CookieChoices;
    let personalisedAds: boolean;
    if (req.subjectId) {
      const state = await this.engine.stateOf(req.subjectId);
      const given = (purpose: string): boolean => this.engine.judgeState(purpose, state).allow;
      choices = { necessary: true, preferences: given(this.policy.cookies.preferences), analytics: given(this.policy.cookies.analytics), marketing: given(this.policy.cookies.marketing) };
      personalisedAds = given('personalised_ads');
    } else {
      // R-TEL-5: GPC opts this browser out of marketing cookies unless it confirmed an explicit opt-in.
      const marketing = cookie.marketing && (!req.gpc || cookie.gpcOverride);
      choices = { necessary: true, preferences: cookie.preferences, analytics: cookie.analytics, marketing };
      cookie = { ...cookie, marketing };
      // A visitor has no ledger: the marketing cookie choice stands for personalisation too.
      personalisedAds = marketing;
    }
    return {
      categories: choices,
      gpc: req.gpc,
      consentMode: consentMode(choices, personalisedAds),
      tcString: this.tcf.encode(tcfPurposes(choices, personalisedAds), new Date()),
      cookie: formatCookie(cookie),
      receiptId,
    };
  }
}
