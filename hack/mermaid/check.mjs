// check.mjs parses every ```mermaid block of the Markdown files named on the
// command line with Mermaid's own parser (mermaid.parse), the one GitHub's
// renderer uses. It prints one line per block and exits 1 if any block does
// not parse, 2 if a file has no block at all.
//   node hack/mermaid/check.mjs dashboard.md ...
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

// Mermaid sanitises labels with DOMPurify, which needs a DOM.
const { window } = new JSDOM('');
globalThis.window = window;
globalThis.document = window.document;
const { default: mermaid } = await import('mermaid');

const blockRE = /^```mermaid\n([\s\S]*?)^```$/gm;
let failed = false;
let empty = false;
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, 'utf8');
  let n = 0;
  for (const m of text.matchAll(blockRE)) {
    n++;
    try {
      const r = await mermaid.parse(m[1]);
      console.log(`${file}: block ${n}: ok (${r.diagramType})`);
    } catch (e) {
      failed = true;
      console.log(`${file}: block ${n}: PARSE ERROR: ${String(e.message ?? e)}\n${m[1]}`);
    }
  }
  if (n === 0) {
    empty = true;
    console.log(`${file}: no mermaid block`);
  }
}
process.exit(failed ? 1 : empty ? 2 : 0);
