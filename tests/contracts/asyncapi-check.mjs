// The AsyncAPI parser (the one AsyncAPI's own tools use) on a document: `node asyncapi-check.mjs FILE`.
// Prints each diagnostic (error, warning) as JSON on a line of its own; exits 1 if any is an error.
import { readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';

const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(process.argv[2], 'utf8'));
const severity = ['error', 'warning', 'information', 'hint'];
for (const d of diagnostics) {
  console.log(JSON.stringify({ severity: severity[d.severity], code: d.code, message: d.message, path: d.path.join('.') }));
}
process.exit(document && !diagnostics.some((d) => d.severity === 0) ? 0 : 1);
