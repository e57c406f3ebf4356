/**
 * Stands in for the SDK's ajv provider in browser bundles. Ajv compiles schemas with
 * `new Function`, which our CSP forbids; every SDK Server/Client we create is given the
 * CfWorker validator instead, so this is never constructed.
 */
export class AjvJsonSchemaValidator {
  constructor() {
    throw new Error('ajv is not bundled: pass jsonSchemaValidator: new CfWorkerJsonSchemaValidator()');
  }
}
