import { Ajv } from 'ajv';
import addFormatsImport from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

// ajv-formats is CommonJS; under NodeNext its callable sits on .default.
const addFormats = addFormatsImport.default;

/**
 * Bodies are validated strictly: no type coercion ("12" is not a number) and no silent removal of
 * unknown fields, so a client learns of its mistake. Query strings and params arrive as text and are coerced.
 */
export function registerValidation(app: FastifyInstance): void {
  const strict = new Ajv({ allErrors: true, coerceTypes: false, removeAdditional: false, useDefaults: true, strict: false });
  const lenient = new Ajv({ allErrors: true, coerceTypes: 'array', removeAdditional: false, useDefaults: true, strict: false });
  addFormats(strict);
  addFormats(lenient);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict.compile(schema) : lenient.compile(schema)));
}
