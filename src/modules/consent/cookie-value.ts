/** The visitor's banner choices as kept in the (signed) cookie: `p1a0m0o0t1764000000`. */
export interface VisitorCookie {
  readonly preferences: boolean;
  readonly analytics: boolean;
  readonly marketing: boolean;
  /** The marketing opt-in was confirmed over a GPC signal. */
  readonly gpcOverride: boolean;
  /** Epoch seconds of the choice; 0 when the visitor never chose (everything denied). */
  readonly at: number;
}

const NONE: VisitorCookie = Object.freeze({ preferences: false, analytics: false, marketing: false, gpcOverride: false, at: 0 });
const FORMAT = /^p([01])a([01])m([01])o([01])t(\d{1,12})$/;

export function parseCookie(value: string | undefined): VisitorCookie {
  const m = value ? FORMAT.exec(value) : null;
  if (!m) return NONE;
  return { preferences: m[1] === '1', analytics: m[2] === '1', marketing: m[3] === '1', gpcOverride: m[4] === '1', at: Number(m[5]) };
}

export function formatCookie(c: VisitorCookie): string {
  const b = (x: boolean): string => (x ? '1' : '0');
  return `p${b(c.preferences)}a${b(c.analytics)}m${b(c.marketing)}o${b(c.gpcOverride)}t${c.at}`;
}
