// Parses Mermaid diagrams (one file per argument) with the mermaid package's own parser. Prints
// `ok: TYPE FILE` for each accepted diagram and `rejected: FILE: MESSAGE` for each refused one;
// exits non-zero when any is refused. Used by tests/explain.rs.
import mermaid from 'mermaid';
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node parse.mjs FILE…');
  process.exit(2);
}
let refused = 0;
for (const file of files) {
  try {
    const result = await mermaid.parse(readFileSync(file, 'utf8'));
    console.log(`ok: ${result.diagramType} ${file}`);
  } catch (e) {
    refused += 1;
    console.error(`rejected: ${file}: ${e.message ?? e}`);
  }
}
process.exit(refused === 0 ? 0 : 1);
