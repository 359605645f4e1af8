// Schema validation (collection `validator`, `validationLevel`, `validationAction`): a document a write
// would store that fails the validator is refused with 121 DocumentValidationFailure, or only logged with
// validationAction "warn"; "moderate" skips updates of documents that already failed; "off" and
// `bypassDocumentValidation: true` skip the check. Query-operator validators only: `$jsonSchema` is refused
// when the validator is set rather than accepted and ignored.
// Source: MongoDB manual "Schema Validation" (validation levels and actions), error_codes.yml (121);
// errInfo.details: query/validation-error.ts.
import type { Document } from 'bson';
import { CommandError, ErrorCode } from '../errors.js';
import { compileFilter } from '../query/match.js';
import { isPlainDocument } from '../query/paths.js';
import { explainFilter } from '../query/validation-error.js';
import type { Collection } from '../storage/store.js';
import { atLeast } from '../version.js';
import type { CommandContext } from './registry.js';

export const DOCUMENT_VALIDATION_FAILURE = 121;

function usesJsonSchema(spec: unknown): boolean {
  if (Array.isArray(spec)) return spec.some(usesJsonSchema);
  if (!isPlainDocument(spec)) return false;
  return Object.entries(spec).some(([k, v]) => k === '$jsonSchema' || usesJsonSchema(v));
}

/** Refuses a validator the server cannot enforce (create and collMod), before it is stored. */
export function checkValidatorSpec(validator: Document): void {
  if (usesJsonSchema(validator)) {
    throw new CommandError(ErrorCode.BadValue, '$jsonSchema is not supported by this server');
  }
  compileFilter(validator);
}

function validatorOf(c: Collection | undefined): Document | undefined {
  const v = c?.options.validator;
  return isPlainDocument(v) && Object.keys(v).length > 0 ? v : undefined;
}

/** How many stored documents fail the collection's validator (validate's nInvalidDocuments). */
export function validatorFailures(c: Collection): number {
  const v = validatorOf(c);
  if (!v) return 0;
  const pass = compileFilter(v);
  let n = 0;
  for (const d of c.all()) if (!pass(d)) n++;
  return n;
}

/**
 * Checks one document a write stores into `c` (`previous`: the document an update replaces). Throws 121
 * when the validator refuses it with validationAction "error"; logs mongod's warning with "warn".
 */
export function checkDocumentValidation(
  ctx: CommandContext,
  c: Collection | undefined,
  doc: Document,
  previous?: Document,
): void {
  const validator = validatorOf(c);
  if (!c || !validator || ctx.body.bypassDocumentValidation === true) return;
  const level = c.options.validationLevel ?? 'strict';
  if (level === 'off') return;
  const pass = compileFilter(validator);
  if (level === 'moderate' && previous && !pass(previous)) return;
  if (pass(doc)) return;
  // From 5.0 mongod explains the failure (errInfo: failingDocumentId and details); before, nothing.
  const errInfo = atLeast(ctx.node.version, 5, 0)
    ? { failingDocumentId: doc._id, details: explainFilter(validator, doc) }
    : undefined;
  if (c.options.validationAction === 'warn') {
    ctx.node.log.warn('STORAGE', 20294, 'conn', 'Document would fail validation', {
      namespace: c.ns,
      document: doc,
      ...(errInfo ? { errInfo } : {}),
    });
    return;
  }
  throw new CommandError(
    DOCUMENT_VALIDATION_FAILURE,
    'Document failed validation',
    errInfo ? { errInfo } : {},
    'DocumentValidationFailure',
  );
}
