/**
 * JSON Schema validation with ajv: the pipeline file's schema and each stage kind's parameter
 * schema, compiled once per process; ajv's errors rewritten as a field path and a plain message.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Json } from './declaration.js';
import type { ResolvedKind } from './stage.js';
import { projectRoot } from './stage-schema.js';

const require = createRequire(import.meta.url);
const AjvCtor = require('ajv') as typeof import('ajv').default;

const ajv = new AjvCtor({ allErrors: true, useDefaults: true, strict: false, verbose: true });
let pipelineValidator: ValidateFunction | undefined;
const kindValidators = new Map<string, ValidateFunction>();

export function validatorForPipeline(): ValidateFunction {
  if (!pipelineValidator) {
    const schema = JSON.parse(readFileSync(join(projectRoot(), 'schemas', 'pipeline.schema.json'), 'utf8')) as Json;
    pipelineValidator = ajv.compile(schema);
  }
  return pipelineValidator;
}

/** The kind's parameter validator; it fills in defaults (ajv `useDefaults`) as it validates. */
export function validatorForKind(r: ResolvedKind): ValidateFunction {
  const key = `${r.id}@${r.kind.version}`;
  let v = kindValidators.get(key);
  if (!v) {
    v = ajv.compile(r.kind.params);
    kindValidators.set(key, v);
  }
  return v;
}

/** An ajv error as the path of the offending field (or key) and a message naming it. */
export function describeSchemaError(e: ErrorObject, what: string): { path: string[]; key: boolean; message: string } {
  const path = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const field = path.length ? path.join('.') : what;
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys(((e.parentSchema as { properties?: Json })?.properties) ?? {});
      return { path: [...path, extra], key: true, message: `unknown field '${extra}' in ${path.length ? field : what}${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}` };
    }
    case 'required':
      return { path, key: false, message: `missing required field '${(e.params as { missingProperty: string }).missingProperty}' in ${path.length ? field : what}` };
    case 'type':
      return { path, key: false, message: `'${field}' must be ${(e.params as { type: string }).type}` };
    case 'enum':
      return { path, key: false, message: `'${field}' must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}` };
    case 'propertyNames':
      return { path, key: false, message: `invalid name in ${field}: ${e.message}` };
    default:
      return { path, key: false, message: `'${field}' ${e.message}` };
  }
}
