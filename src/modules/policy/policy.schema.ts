import { Type, type Static } from '@sinclair/typebox';

/** The shape of a policy file. References between sections are checked by policy.references.ts. */
const Duration = Type.Object(
  {
    period: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    unit: Type.Optional(Type.Union([Type.Literal('minutes'), Type.Literal('hours'), Type.Literal('days'), Type.Literal('months'), Type.Literal('years')])),
  },
  { additionalProperties: false },
);

const Retention = Type.Object(
  {
    period: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    unit: Type.Optional(Type.Union([Type.Literal('minutes'), Type.Literal('hours'), Type.Literal('days'), Type.Literal('months'), Type.Literal('years')])),
    after: Type.Optional(Type.String({ minLength: 1 })),
    while: Type.Optional(Type.Literal('account_active')),
  },
  { additionalProperties: false },
);

const CategoryKey = Type.String({ pattern: '^(user|system)(\\.[a-z0-9_]+)+$' });

const Category = Type.Object(
  {
    personal: Type.Boolean(),
    description: Type.String({ minLength: 1 }),
    extension: Type.Optional(Type.Boolean()),
    retention: Retention,
  },
  { additionalProperties: false },
);

export const LEGAL_BASES = ['contract', 'legal_obligation', 'legitimate_interest', 'consent'] as const;

const Purpose = Type.Object(
  {
    title: Type.String({ minLength: 1 }),
    dataUse: Type.String({ pattern: '^[a-z_]+(\\.[a-z_]+)*$' }),
    legalBasis: Type.Union(LEGAL_BASES.map((b) => Type.Literal(b))),
    consent: Type.Optional(
      Type.Object(
        {
          withdrawable: Type.Optional(Type.Boolean()),
          default: Type.Optional(Type.Literal('denied')),
          expiresAfter: Type.Optional(Duration),
        },
        { additionalProperties: false },
      ),
    ),
    categories: Type.Array(CategoryKey, { minItems: 1 }),
    recipientTypes: Type.Optional(Type.Array(Type.String())),
    aggregatesOnly: Type.Optional(Type.Boolean()),
    childAllowed: Type.Optional(Type.Boolean()),
    gpcOptOut: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const RequestLimit = Type.Object({ max: Type.Integer({ minimum: 1 }), per: Duration }, { additionalProperties: false });

export const PolicySchema = Type.Object(
  {
    version: Type.String({ minLength: 1 }),
    name: Type.String({ minLength: 1 }),
    controller: Type.Object(
      { name: Type.String(), contact: Type.String(), policyUrl: Type.String(), jurisdiction: Type.String() },
      { additionalProperties: false },
    ),
    categories: Type.Record(Type.String(), Category),
    recipientTypes: Type.Record(Type.String(), Type.Object({ description: Type.String() }, { additionalProperties: false })),
    purposes: Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_]*$' }), Purpose),
    fields: Type.Record(Type.String({ pattern: '^[a-z_]+\\.[a-z_]+$' }), Type.String()),
    cookies: Type.Object(
      { necessary: Type.String(), preferences: Type.String(), analytics: Type.String(), marketing: Type.String() },
      { additionalProperties: false },
    ),
    children: Type.Object(
      { ageThreshold: Type.Integer({ minimum: 1, maximum: 21 }), regions: Type.Record(Type.String(), Type.Integer({ minimum: 1, maximum: 21 })), erasureWithin: Duration },
      { additionalProperties: false },
    ),
    requests: Type.Object(
      {
        deadline: Duration,
        maxExtension: Duration,
        verificationWindow: Duration,
        exportLinkValidity: Duration,
        limits: Type.Record(Type.String(), RequestLimit),
      },
      { additionalProperties: false },
    ),
    telemetry: Type.Object(
      {
        purpose: Type.String(),
        crashPurpose: Type.String(),
        pseudonymEpoch: Duration,
        minGroupSize: Type.Integer({ minimum: 2 }),
        epsilon: Type.Number({ exclusiveMinimum: 0 }),
        // δ < ½: the release threshold adds (m/ε)·ln(1/(2δ)) to k, which must not be negative.
        delta: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 0.5 }),
        budgetPerEpoch: Type.Number({ exclusiveMinimum: 0 }),
        maxGroupsPerPseudonym: Type.Integer({ minimum: 1 }),
        accessLogIpTruncateAfter: Duration,
        events: Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_]*$' }), Type.Record(Type.String(), Type.Union([Type.Literal('string'), Type.Literal('number'), Type.Literal('boolean')]))),
      },
      { additionalProperties: false },
    ),
    revisions: Type.Object({ noticePeriod: Duration }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);

export type PolicyDocument = Static<typeof PolicySchema>;
export type DurationSpec = Static<typeof Duration>;
export type RetentionSpec = Static<typeof Retention>;
export type LegalBasis = (typeof LEGAL_BASES)[number];
